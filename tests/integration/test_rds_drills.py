"""RDS restore drills through the real CLI (moto over HTTP): the copy of an RDS snapshot
in the DR region is restored into a scratch instance, checked (available, same engine and
storage as the snapshot), deleted again and recorded; SQL checks against a scratch RDS
instance fail as "not reachable"; an identifier that exists is refused and left alone."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from state.document import from_bytes
from tests.helpers.world import Env, make_env
from tests.integration.test_rds_backups import DATA as BACKUPS
from tests.integration.test_rds_backups import DR_REGION, REGION, at
from tests.integration.test_rds_backups import instance as instance  # noqa: F401  (fixture)

DATA = BACKUPS + """\
drills:
  rds-restore:
    backup: {series}
    from: rds-dr
    every: 7d
    into: {{database: {{engine: rds, identifier: {scratch}, region: {scratch_region}}}}}
    verify: {verify}
    rto: 15m
"""


def client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client("rds", region_name=region, endpoint_url=endpoint)


def setup(tmp_path: Path, endpoint: str, identifier: str, *, verify: str = "[]",
          scratch_region: str = DR_REGION) -> tuple[Env, str, str]:
    series = f"apim-db-{uuid.uuid4().hex[:8]}"  # the moto server is shared: own names
    scratch = f"apim-drill-{uuid.uuid4().hex[:8]}"
    yaml = DATA.format(identifier=identifier, region=REGION, dr_region=DR_REGION,
                       endpoint=endpoint, series=series, scratch=scratch,
                       scratch_region=scratch_region, verify=verify)
    return make_env(tmp_path, {}, extra_yaml=yaml), series, scratch


def runs(env: Env) -> list[dict[str, Any]]:
    document = from_bytes((env.spec / "state" / "t.json").read_bytes(), source="test")
    return document.resources["drill.rds-restore"].data["runs"]


def exists(endpoint: str, identifier: str, region: str = DR_REGION) -> bool:
    found = client(endpoint, region).describe_db_instances()["DBInstances"]
    return identifier in {i["DBInstanceIdentifier"] for i in found}


def test_an_rds_drill_restores_the_dr_copy_checks_it_and_deletes_the_scratch_instance(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, _series, scratch = setup(tmp_path, moto_endpoint, instance)
    plan = env.run("plan", ".", env={**aws, **at(0)}, check=0).stdout
    assert "drill.run" in plan and f"into scratch rds {scratch} in {DR_REGION}" in plan
    env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=0)

    [run] = runs(env)
    assert run["passed"] and run["torn_down"] and run["repository"] == "rds-dr"
    [check] = run["checks"]
    assert check["passed"] and check["detail"] == "postgres, 20 GiB, available"
    assert "snapshot's engine and storage" in check["check"]
    assert not exists(moto_endpoint, scratch)
    assert "drill.run" not in env.run("plan", ".", env={**aws, **at(3)}, check=0).stdout


def test_sql_checks_on_a_scratch_rds_instance_fail_as_not_reachable_and_it_is_deleted(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, _series, scratch = setup(tmp_path, moto_endpoint, instance,
                                  verify='[{sql: "SELECT count(*) FROM am_api", '
                                         'expect: ">= 1"}]')
    proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=1)
    assert "drill rds-restore failed" in proc.stderr and "not reachable" in proc.stderr
    [run] = runs(env)
    assert not run["passed"] and run["torn_down"]
    matches, sql = run["checks"]
    assert matches["passed"]
    assert not sql["passed"] and sql["detail"].startswith("not reachable")
    assert not exists(moto_endpoint, scratch)


def test_an_existing_scratch_identifier_is_refused_and_left_alone(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, _series, scratch = setup(tmp_path, moto_endpoint, instance)
    client(moto_endpoint, DR_REGION).create_db_instance(
        DBInstanceIdentifier=scratch, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="apim", MasterUserPassword="not-a-secret-1")
    proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=1)
    assert f"scratch rds {scratch} in {DR_REGION} already exists" in proc.stderr
    [run] = runs(env)
    assert not run["passed"]
    assert exists(moto_endpoint, scratch)


def test_a_scratch_instance_in_another_region_than_the_repository_is_refused(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, _series, scratch = setup(tmp_path, moto_endpoint, instance, scratch_region=REGION)
    proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=1)
    assert "RDS restores a snapshot only in its own region" in proc.stderr
    assert not exists(moto_endpoint, scratch, REGION)


def lose_primary(env: Env, replacement: str) -> None:
    """The primary site is lost: the operator declares the replacement and the mapping."""
    extra = env.spec / "extra.yaml"
    text = extra.read_text().replace("databases:\n", f"databases:\n  apim_db_dr: {replacement}\n")
    extra.write_text(text + "recover:\n  dr: {databases: {apim_db: apim_db_dr}, "
                            "repositories: [rds-dr]}\n")


@pytest.mark.slow(14)
def test_recover_restores_the_newest_dr_snapshot_into_the_replacement_rds_instance(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, series, _scratch = setup(tmp_path, moto_endpoint, instance)
    env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=0)
    env.run("apply", ".", "--auto-approve", env={**aws, **at(1)}, check=0)
    replacement = f"apim-dr-{uuid.uuid4().hex[:8]}"
    lose_primary(env, f"{{engine: rds, identifier: {replacement}, region: {DR_REGION}}}")

    proc = env.run("recover", "--site", "dr", "--env", ".", "--auto-approve",
                   env={**aws, **at(1)}, check=0)
    assert f"as new RDS instance {replacement} in {DR_REGION}" in proc.stdout
    assert "Recover complete at site dr" in proc.stdout
    newest = [line for line in proc.stdout.splitlines() if f"{series}: snapshot" in line]
    assert newest and "20260102T020000Z" in newest[0].upper()
    [made] = client(moto_endpoint, DR_REGION).describe_db_instances(
        DBInstanceIdentifier=replacement)["DBInstances"]
    assert made["DBInstanceStatus"] == "available" and made["Engine"] == "postgres"
    document = from_bytes((env.spec / "state" / "t.json").read_bytes(), source="test")
    recorded = document.resources["database.apim_db_dr"].data["instance"]
    assert recorded["identifier"] == replacement and recorded["region"] == DR_REGION

    again = env.run("recover", "--site", "dr", "--env", ".", "--auto-approve",
                    env={**aws, **at(1)}, check=1)
    assert f"RDS instance {replacement!r} in {DR_REGION} already exists" in again.stderr


def test_recover_refuses_to_map_an_rds_database_to_a_dump_replacement(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, _series, _scratch = setup(tmp_path, moto_endpoint, instance)
    env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=0)
    lose_primary(env, '{engine: sqlite, path: "{{ world }}/dr/apim.db"}')
    proc = env.run("recover", "--site", "dr", "--env", ".", "--auto-approve",
                   env={**aws, **at(0)}, check=1)
    line = [ln for ln in proc.stderr.splitlines() if "is an RDS snapshot" in ln]
    assert line and "map apim_db to a rds replacement" in line[0]
    assert not (env.world / "dr" / "apim.db").exists()


def test_restore_an_rds_snapshot_into_a_new_instance_and_refuse_an_existing_one(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    import json

    env, series, _scratch = setup(tmp_path, moto_endpoint, instance)
    env.run("apply", ".", "--auto-approve", env={**aws, **at(0)}, check=0)
    listed = json.loads(env.run("backups", "list", "--env", ".", "--format", "json",
                                env={**aws, **at(0)}, check=0).stdout)["snapshots"]
    sid = listed[0]["id"]
    target = f"apim-restored-{uuid.uuid4().hex[:8]}"
    (env.spec / "more.yaml").write_text(
        f"databases:\n  restored: {{engine: rds, identifier: {target}, region: {DR_REGION}}}\n")
    refused = env.run("restore", f"rds-dr:{series}/{sid}", "--to", "database.apim_db",
                      "--env", ".", "--auto-approve", env={**aws, **at(0)}, check=1)
    assert "RDS restores into a new instance" in refused.stderr
    proc = env.run("restore", f"rds-dr:{series}/{sid}", "--to", "database.restored",
                   "--env", ".", "--auto-approve", env={**aws, **at(0)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert exists(moto_endpoint, target)
