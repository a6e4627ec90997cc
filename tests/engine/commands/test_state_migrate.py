"""`drydock state migrate`: a state with its history moves local -> S3 -> local (moto over
HTTP) with lineage and serials kept; a destination with another lineage is refused; a
stale S3 lock is shown with its holder and removed only by `state unlock ID`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from engine.commands.state_migrate import parse_backend
from tests.helpers.world import Env, make_env

REGION = "eu-west-1"
HOURLY = """\
repositories:
  vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
backups:
  conf: {source: {root: "{{ world }}", paths: [packs]}, every: 1h, repository: vault}
"""


def at(hour: int) -> dict[str, str]:
    return {"DRYDOCK_NOW": f"2026-03-01T{hour:02d}:00:00+00:00"}


@pytest.fixture
def bucket(moto_endpoint: str, aws: dict[str, str]) -> str:
    import boto3

    name = f"drydock-state-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def history(env: Env, aws: dict[str, str]) -> list[tuple[int, str]]:
    out = json.loads(env.run("state", "history", "--env", ".", "--format", "json", env=aws,
                             check=0).stdout)
    return [(e["serial"], e["applied"]["summary"]) for e in out]


def lineage(env: Env, aws: dict[str, str]) -> tuple[str, int]:
    out = json.loads(env.run("state", "list", "--env", ".", "--format", "json", env=aws,
                             check=0).stdout)
    return out["lineage"], out["serial"]


def point_state(env: Env, block: str) -> None:
    path = env.spec / "env.yaml"
    lines = [block if line.startswith("state:") else line
             for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")


def test_parse_backend_takes_the_three_forms() -> None:
    s3 = parse_backend("s3://ops/prod/state.json?region=eu-west-1&endpoint_url=http://x:1")
    assert (s3.backend, s3.bucket, s3.key, s3.region, s3.endpoint_url) == (
        "s3", "ops", "prod/state.json", "eu-west-1", "http://x:1")
    assert parse_backend("local:state/t.json").path == "state/t.json"
    block = parse_backend('{"backend": "s3", "bucket": "b", "key": "k", "region": "r"}')
    assert (block.bucket, block.key) == ("b", "k")
    with pytest.raises(ValueError, match="needs a bucket, key and region"):
        parse_backend("s3://ops/state.json")


def test_a_state_moves_to_s3_and_back_with_its_history(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], bucket: str) -> None:
    env = make_env(tmp_path, {}, extra_yaml=HOURLY)
    for hour in range(3):
        env.run("apply", ".", "--auto-approve", env={**aws, **at(hour)}, check=0)
    before_history, before = history(env, aws), lineage(env, aws)
    assert before[1] >= 3 and len(before_history) >= 3

    s3 = f"s3://{bucket}/teams/t.json?region={REGION}&endpoint_url={moto_endpoint}"
    proc = env.run("state", "migrate", "--to", s3, "--env", ".", env=aws, check=0)
    assert f"state: {{backend: s3, bucket: {bucket}, key: teams/t.json" in proc.stdout
    point_state(env, f"state: {{backend: s3, bucket: {bucket}, key: teams/t.json, "
                     f"region: {REGION}, endpoint_url: \"{moto_endpoint}\"}}")
    assert lineage(env, aws) == before
    assert history(env, aws) == before_history

    env.run("state", "migrate", "--to", "local:state/back.json", "--env", ".", env=aws, check=0)
    point_state(env, "state: {backend: local, path: state/back.json}")
    assert lineage(env, aws) == before
    assert history(env, aws) == before_history
    env.run("apply", ".", "--auto-approve", env={**aws, **at(5)}, check=0)
    assert lineage(env, aws) == (before[0], before[1] + 1)  # the moved state goes on

    # another environment state of another lineage already at the destination: refused
    other = make_env(tmp_path / "other", {}, extra_yaml=HOURLY)
    other.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=0)
    target = other.spec / "state" / "t.json"
    proc = env.run("state", "migrate", "--to", f"local:{target}", "--env", ".", env=aws)
    assert proc.returncode == 1
    assert "already holds lineage" in proc.stderr and "refusing to overwrite" in proc.stderr


def test_a_stale_s3_lock_is_shown_with_its_holder_and_removed_by_id_only(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], bucket: str) -> None:
    from state.s3 import open_s3_state

    env = make_env(tmp_path, {})
    point_state(env, f"state: {{backend: s3, bucket: {bucket}, key: t.json, region: {REGION}, "
                     f"endpoint_url: \"{moto_endpoint}\"}}")
    crashed = open_s3_state(bucket, "t.json", REGION, environment="t",
                            endpoint_url=moto_endpoint)
    held = crashed.locker.acquire("apply")  # a run that dies holding the lock
    shown = env.run("state", "lock", "--env", ".", env=aws, check=0).stdout
    assert f"lock id {held.id}, pid {held.pid} on host {held.host}, user {held.user}" in shown
    refused = env.run("apply", ".", "--auto-approve", env=aws)
    assert refused.returncode == 1
    assert f"locked by apply (pid {held.pid} on host {held.host}" in refused.stderr
    assert f"drydock state unlock {held.id}" in refused.stderr
    wrong = env.run("state", "unlock", "not-the-id", "--env", ".", env=aws)
    assert wrong.returncode == 1 and "nothing removed" in wrong.stderr
    env.run("state", "unlock", held.id, "--env", ".", env=aws, check=0)
    assert "is not locked" in env.run("state", "lock", "--env", ".", env=aws, check=0).stdout
    env.run("apply", ".", "--auto-approve", env=aws, check=0)
