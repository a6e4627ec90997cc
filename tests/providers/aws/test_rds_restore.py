"""Restoring RDS snapshots into new instances and deleting scratch instances, against a
real moto server over HTTP: `rds.restore` and `rds.delete-instance` through the provider."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed
from engine.spec.loader import LoadedSpec, load_spec
from engine.wiring import default_registry
from providers.aws.provider import AwsProvider
from providers.aws.rds import RdsSnapshotStore
from providers.aws.rds_restore import SCRATCH_KEY, RdsInstances, RdsRestoreError
from providers.repositories.manifest import SnapshotFields, SnapshotSource
from tests.providers.aws.conftest import DR_REGION, REGION

DAY0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SID = "20260101T020000Z-a1b2c3"


def spec_for(tmp_path: Path, endpoint: str) -> LoadedSpec:
    (tmp_path / "env.yaml").write_text(
        "environment: t\nsites: {primary: {}, dr: {}}\n"
        "repositories:\n"
        f"  rds-primary: {{site: primary, type: aws, region: {REGION}, "
        f"endpoint_url: '{endpoint}'}}\n"
        f"  rds-dr: {{site: dr, type: aws, region: {DR_REGION}, endpoint_url: '{endpoint}'}}\n")
    return load_spec(tmp_path)


def context(spec: LoadedSpec, seen: list[str] | None = None) -> ActionContext:
    return ActionContext(spec=spec, now=DAY0, run_id="r1", resolve_secret=lambda _r: "",
                         progress=(seen.append if seen is not None else lambda _m: None))


def snapshot(moto_endpoint: str, instance: str, series: str) -> None:
    fields = SnapshotFields(source=SnapshotSource(kind="database", address="database.apim",
                                                  engine="rds"), created=DAY0)
    RdsSnapshotStore("rds-primary", REGION, endpoint_url=moto_endpoint).create(
        series, SID, instance=instance, fields=fields)


def restore_action(series: str, identifier: str, *, scratch: bool = True,
                   region: str | None = None) -> Action:
    params: dict[str, Any] = {"repository": "rds-primary", "series": series,
                              "snapshot_id": SID, "identifier": identifier,
                              "scratch": scratch}
    if region:
        params["region"] = region
    return Action(id=f"rds.{identifier}/restore", address=f"database.{identifier}",
                  type="rds.restore", summary="restore", params=params)


def delete_action(identifier: str) -> Action:
    return Action(id=f"rds.{identifier}/delete", address=f"database.{identifier}",
                  type="rds.delete-instance", summary="delete",
                  params={"identifier": identifier, "region": REGION})


def fresh() -> str:
    return f"drill-{uuid.uuid4().hex[:12]}"


def test_a_snapshot_restores_into_a_new_tagged_instance_with_its_endpoint(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str,
        rds_client: Callable[[str], Any]) -> None:
    snapshot(moto_endpoint, instance, series)
    spec, seen, target = spec_for(tmp_path, moto_endpoint), [], fresh()
    outcome = default_registry().run(restore_action(series, target), context(spec, seen))

    made = outcome.data["instance"]
    assert made["identifier"] == target and made["status"] == "available"
    assert made["engine"] == "postgres" and made["allocated_storage_bytes"] == 20 << 30
    assert made["address"] and isinstance(made["port"], int)
    assert any("restore from snapshot" in line for line in seen)
    described = rds_client(REGION).describe_db_instances(
        DBInstanceIdentifier=target)["DBInstances"][0]
    tags = {t["Key"]: t["Value"] for t in rds_client(REGION).list_tags_for_resource(
        ResourceName=described["DBInstanceArn"])["TagList"]}
    assert tags[SCRATCH_KEY] == "true"


def test_a_restore_refuses_an_identifier_that_exists(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str) -> None:
    snapshot(moto_endpoint, instance, series)
    spec = spec_for(tmp_path, moto_endpoint)
    with pytest.raises(ActionFailed) as caught:
        AwsProvider().run(restore_action(series, instance), context(spec))
    message = str(caught.value)
    assert "\n" not in message
    assert f"RDS instance {instance!r} in {REGION} already exists" in message
    assert "never replaces an instance" in message


def test_a_restore_refuses_a_missing_snapshot_and_another_region(
        tmp_path: Path, moto_endpoint: str, aws_env: None, series: str) -> None:
    spec = spec_for(tmp_path, moto_endpoint)
    with pytest.raises(ActionFailed, match=f"snapshot {series}/{SID} is not found"):
        AwsProvider().run(restore_action(series, fresh()), context(spec))
    with pytest.raises(ActionFailed, match=f"copy the snapshot to a repository in {DR_REGION}"):
        AwsProvider().run(restore_action(series, fresh(), region=DR_REGION), context(spec))


def test_a_scratch_instance_is_deleted_and_a_second_delete_finds_it_gone(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str) -> None:
    snapshot(moto_endpoint, instance, series)
    spec, target = spec_for(tmp_path, moto_endpoint), fresh()
    provider = AwsProvider()
    provider.run(restore_action(series, target), context(spec))

    first = provider.run(delete_action(target), context(spec))
    assert "deletion requested" in first.message
    instances = RdsInstances(RdsSnapshotStore("x", REGION, endpoint_url=moto_endpoint).endpoint)
    assert instances.describe(target) is None
    second = provider.run(delete_action(target), context(spec))
    assert "already gone" in second.message


def test_deleting_refuses_instances_that_are_not_scratch(
        tmp_path: Path, moto_endpoint: str, instance: str, series: str) -> None:
    snapshot(moto_endpoint, instance, series)
    spec, restored = spec_for(tmp_path, moto_endpoint), fresh()
    AwsProvider().run(restore_action(series, restored, scratch=False), context(spec))
    for identifier in (instance, restored):
        with pytest.raises(ActionFailed, match="is not a drill's scratch instance"):
            AwsProvider().run(delete_action(identifier), context(spec))
        assert RdsInstances(RdsSnapshotStore("x", REGION, endpoint_url=moto_endpoint)
                            .endpoint).describe(identifier) is not None


def test_describe_of_an_unreachable_endpoint_is_one_line(aws_env: None) -> None:
    import socket

    from providers.aws.clients import AwsEndpoint, make_client

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        where = AwsEndpoint(region=REGION,
                            endpoint_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
        instances = RdsInstances(where, client=make_client("rds", where, max_attempts=1))
        with pytest.raises(RdsRestoreError) as caught:
            instances.describe("anything")
    assert "\n" not in str(caught.value)
    assert f"cannot reach RDS endpoint {where.endpoint_url}" in str(caught.value)
