"""Backups to S3 end to end through the real CLI: a SQLite database backed up locally and
copied to an S3 repository (moto over HTTP), listed from the repositories and verified."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.world import Env, make_env, seed_apis

REGION = "eu-west-1"
NOW = {"DRYDOCK_NOW": datetime(2026, 1, 1, 2, 0, tzinfo=UTC).isoformat()}
DATA = """\
databases:
  apim_db: {{engine: sqlite, path: "{{{{ world }}}}/primary/apim.db", site: primary}}
repositories:
  local-vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups"}}
  s3-vault: {{site: dr, type: s3, bucket: {bucket}, prefix: drydock/t, region: {region},
             endpoint_url: "{endpoint}"}}
backups:
  apim-db:
    source: {{database: apim_db}}
    every: 24h
    keep: {{last: 3}}
    repository: {primary}
    copies: [{copy}]
"""


@pytest.fixture
def s3(moto_endpoint: str, aws: dict[str, str]) -> tuple[Any, str]:
    """A client of the moto server and a fresh bucket on it."""
    import boto3

    client = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    bucket = f"drydock-e2e-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client, bucket


def setup(tmp_path: Path, bucket: str, endpoint: str, *, primary: str, copy: str) -> Env:
    yaml = DATA.format(bucket=bucket, region=REGION, endpoint=endpoint, primary=primary,
                       copy=copy)
    env = make_env(tmp_path, {}, extra_yaml=yaml)
    seed_apis(env.world / "primary" / "apim.db")
    return env


def listed(env: Env, aws: dict[str, str]) -> list[dict[str, Any]]:
    proc = env.run("backups", "list", "--env", ".", "--rebuild", "--format", "json",
                   env={**aws, **NOW}, check=0)
    return json.loads(proc.stdout)["snapshots"]


def stored_keys(client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_apply_copies_a_backup_to_s3_where_it_is_listed_and_verified(
    tmp_path: Path, moto_endpoint: str, aws: dict[str, str], s3: tuple[Any, str]
) -> None:
    client, bucket = s3
    env = setup(tmp_path, bucket, moto_endpoint, primary="local-vault", copy="s3-vault")
    env.run("apply", ".", "--auto-approve", env={**aws, **NOW}, check=0)

    state_files = list((env.spec / "state").glob("*.json"))
    assert state_files
    for path in state_files:
        path.unlink()  # the state is lost: the catalog must come from the repositories
    snaps = listed(env, aws)
    assert len(snaps) == 1
    snap = snaps[0]
    assert (snap["series"], snap["repository"], snap["copies"]) == (
        "apim-db", "local-vault", ["s3-vault"])
    prefix = f"drydock/t/apim-db/{snap['id']}/"
    assert stored_keys(client, bucket) == ["drydock/t/.drydock-repository",
                                           prefix + "database.sqlite.zst",
                                           prefix + "manifest.json"]

    proc = env.run("backups", "verify", snap["id"], "--env", ".", env={**aws, **NOW}, check=0)
    assert f"snapshot {snap['id']} in s3-vault: all parts verified" in proc.stdout
    assert f"snapshot {snap['id']} in local-vault: all parts verified" in proc.stdout

    key = prefix + "database.sqlite.zst"
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0x01
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))
    proc = env.run("backups", "verify", snap["id"], "--env", ".", env={**aws, **NOW}, check=1)
    assert f"snapshot {snap['id']} in s3-vault is damaged" in proc.stderr
    assert "local-vault" not in proc.stderr


def test_a_backup_taken_straight_to_s3_is_copied_to_a_local_repository(
    tmp_path: Path, moto_endpoint: str, aws: dict[str, str], s3: tuple[Any, str]
) -> None:
    client, bucket = s3
    env = setup(tmp_path, bucket, moto_endpoint, primary="s3-vault", copy="local-vault")
    env.run("apply", ".", "--auto-approve", env={**aws, **NOW}, check=0)
    snaps = listed(env, aws)
    assert len(snaps) == 1 and snaps[0]["repository"] == "s3-vault"
    assert snaps[0]["copies"] == ["local-vault"]
    assert f"drydock/t/apim-db/{snaps[0]['id']}/manifest.json" in stored_keys(client, bucket)
    local = env.world / "primary" / "backups" / "apim-db" / snaps[0]["id"] / "manifest.json"
    assert local.is_file()
    env.run("backups", "verify", snaps[0]["id"], "--env", ".", env={**aws, **NOW}, check=0)


def test_an_unreachable_s3_copy_fails_the_apply_with_one_line_naming_the_endpoint(
    tmp_path: Path, aws: dict[str, str], s3: tuple[Any, str]
) -> None:
    import socket

    _client, bucket = s3
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
        env = setup(tmp_path, bucket, endpoint, primary="local-vault", copy="s3-vault")
        proc = env.run("apply", ".", "--auto-approve", env={**aws, **NOW})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot reach S3 endpoint {endpoint}" in proc.stdout + proc.stderr


def test_state_and_snapshots_both_in_s3_from_the_spec(
    tmp_path: Path, moto_endpoint: str, aws: dict[str, str], s3: tuple[Any, str]
) -> None:
    client, bucket = s3
    env = setup(tmp_path, bucket, moto_endpoint, primary="s3-vault", copy="local-vault")
    spec = env.spec / "env.yaml"
    local_state = "state: {backend: local, path: state/t.json}"
    assert local_state in spec.read_text()
    spec.write_text(spec.read_text().replace(local_state, (
        f"state: {{backend: s3, bucket: {bucket}, key: states/t.json, region: {REGION}, "
        f"endpoint_url: '{moto_endpoint}'}}")))
    env.run("apply", ".", "--auto-approve", env={**aws, **NOW}, check=0)
    assert not (env.spec / "state").exists()
    assert "states/t.json" in stored_keys(client, bucket)
    proc = env.run("state", "list", "--env", ".", "--format", "json", env={**aws, **NOW},
                   check=0)
    assert json.loads(proc.stdout)["serial"] == 1
    proc = env.run("backups", "list", "--env", ".", "--format", "json", env={**aws, **NOW},
                   check=0)
    snaps = json.loads(proc.stdout)["snapshots"]
    assert len(snaps) == 1 and snaps[0]["repository"] == "s3-vault"
    assert snaps[0]["copies"] == ["local-vault"]
