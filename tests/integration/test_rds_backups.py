"""RDS snapshots end to end through the real CLI (moto over HTTP): an RDS database backed
up once a day into one region, copied to another, pruned by retention in both, and the
catalog rebuilt from AWS alone; unreachable endpoints, missing instances and mixed-up
repositories are one-line errors."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.world import Env, make_env

REGION, DR_REGION = "eu-west-1", "eu-central-1"
DAY0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
DATA = """\
databases:
  apim_db: {{engine: rds, identifier: {identifier}, region: {region}}}
repositories:
  rds-primary: {{site: primary, type: aws, region: {region}, endpoint_url: "{endpoint}"}}
  rds-dr: {{site: dr, type: aws, region: {dr_region}, endpoint_url: "{endpoint}"}}
backups:
  {series}:
    source: {{database: apim_db}}
    every: 24h
    keep: {{last: 2}}
    repository: rds-primary
    copies: [rds-dr]
"""


@pytest.fixture
def instance(moto_endpoint: str, aws: dict[str, str]) -> str:
    """A fresh RDS instance on the moto server (20 GiB of PostgreSQL)."""
    import boto3

    client = boto3.client("rds", region_name=REGION, endpoint_url=moto_endpoint)
    identifier = f"apim-{uuid.uuid4().hex[:12]}"
    client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="apim", MasterUserPassword="not-a-secret-1")
    return identifier


@pytest.fixture
def closed_endpoint() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that is bound but not listening: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def setup(tmp_path: Path, endpoint: str, identifier: str) -> tuple[Env, str]:
    series = f"apim-db-{uuid.uuid4().hex[:8]}"  # the moto server is shared: own series
    yaml = DATA.format(identifier=identifier, region=REGION, dr_region=DR_REGION,
                       endpoint=endpoint, series=series)
    return make_env(tmp_path, {}, extra_yaml=yaml), series


def at(day: int) -> dict[str, str]:
    return {"DRYDOCK_NOW": (DAY0 + timedelta(days=day)).isoformat()}


def in_aws(endpoint: str, region: str, series: str) -> list[str]:
    """drydock snapshot ids of `series` in `region`, as RDS itself lists them."""
    import boto3

    client = boto3.client("rds", region_name=region, endpoint_url=endpoint)
    found = []
    for snap in client.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
        tags = {t["Key"]: t["Value"] for t in snap.get("TagList", [])}
        if tags.get("drydock:series") == series:
            found.append(tags["drydock:snapshot-id"])
    return sorted(found)


def one_line_with(output: str, *needles: str) -> str:
    lines = [line for line in output.splitlines() if all(n in line for n in needles)]
    assert lines, f"no line with {needles} in:\n{output}"
    return lines[0]


@pytest.mark.slow(20)
def test_daily_rds_snapshots_are_copied_and_pruned_in_both_regions(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, series = setup(tmp_path, moto_endpoint, instance)
    taken: list[str] = []
    for day in range(5):
        proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(day)}, check=0)
        new = [s for s in in_aws(moto_endpoint, REGION, series) if s not in taken]
        assert len(new) == 1, proc.stdout + proc.stderr
        assert new[0].startswith((DAY0 + timedelta(days=day)).strftime("%Y%m%dT%H%M%SZ"))
        taken += new
        kept = taken[-2:]
        assert in_aws(moto_endpoint, REGION, series) == kept
        assert in_aws(moto_endpoint, DR_REGION, series) == kept

    for path in (env.spec / "state").glob("*.json"):
        path.unlink()  # the state is lost: the catalog must come from AWS alone
    proc = env.run("backups", "list", "--env", ".", "--rebuild", "--format", "json",
                   env={**aws, **at(4)}, check=0)
    snaps = json.loads(proc.stdout)["snapshots"]
    assert [s["id"] for s in snaps] == taken[-2:]
    for day, snap in zip((3, 4), snaps, strict=True):
        assert (snap["series"], snap["repository"], snap["copies"]) == (
            series, "rds-primary", ["rds-dr"])
        assert datetime.fromisoformat(snap["created"]) == DAY0 + timedelta(days=day)
        assert snap["size"] == 20 << 30

    proc = env.run("backups", "verify", taken[-1], "--env", ".", env={**aws, **at(4)},
                   check=0)
    assert f"snapshot {taken[-1]} in rds-primary" in proc.stdout
    assert f"snapshot {taken[-1]} in rds-dr" in proc.stdout


def test_an_unreachable_rds_endpoint_fails_with_one_line_naming_it(
        tmp_path: Path, aws: dict[str, str], closed_endpoint: str) -> None:
    env, _series = setup(tmp_path, closed_endpoint, "apim")
    proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(0)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    one_line_with(proc.stdout + proc.stderr, f"cannot reach RDS endpoint {closed_endpoint}")


def test_a_missing_rds_instance_is_a_warning_then_one_failed_action_naming_it(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str]) -> None:
    env, series = setup(tmp_path, moto_endpoint, "no-such-instance")
    plan = env.run("plan", ".", env={**aws, **at(0)}, check=0).stdout
    assert "warning: database.apim_db/create: RDS instance no-such-instance does not exist" \
        in plan
    proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(0)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    one_line_with(proc.stdout + proc.stderr,
                  "error: database.apim_db/create: RDS instance 'no-such-instance' is not in "
                  "region eu-west-1")
    assert "skipped: database.apim_db/create failed" in proc.stderr  # its backup waits
    assert in_aws(moto_endpoint, REGION, series) == []


def test_validate_names_rds_backups_in_the_wrong_repositories(
        tmp_path: Path, aws: dict[str, str]) -> None:
    yaml = f"""\
databases:
  apim_db: {{engine: rds, identifier: apim, region: {REGION}}}
  local_db: {{engine: sqlite, path: "{{{{ world }}}}/primary/local.db"}}
repositories:
  vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups"}}
  rds-primary: {{site: primary, type: aws, region: {REGION}}}
  rds-twin: {{site: dr, type: aws, region: {REGION}}}
  rds-far: {{site: dr, type: aws, region: {DR_REGION}}}
backups:
  rds-into-files: {{source: {{database: apim_db}}, every: 24h, repository: vault}}
  files-into-rds: {{source: {{database: local_db}}, every: 24h, repository: rds-primary}}
  rds-same-region: {{source: {{database: apim_db}}, every: 24h, repository: rds-primary,
                    copies: [rds-twin]}}
  rds-wrong-region: {{source: {{database: apim_db}}, every: 24h, repository: rds-far}}
"""
    env = make_env(tmp_path, {}, extra_yaml=yaml)
    proc = env.run("validate", ".", env=aws)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    one_line_with(out, "extra.yaml:", "backups of RDS database 'apim_db' are RDS snapshots",
                  "repository 'vault' is local")
    one_line_with(out, "repository 'rds-primary' (type: aws) holds RDS snapshots and AMIs only")
    one_line_with(out, "repository 'rds-twin' is in region eu-west-1 like 'rds-primary'")
    one_line_with(out, "repository 'rds-far' is in region eu-central-1 but RDS database "
                       "'apim_db' is in eu-west-1")
