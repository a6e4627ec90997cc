"""The RDS snapshot store against a real moto server over HTTP: create, list, copy to
another region, verify and delete, idempotency, and one-line errors."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from providers.aws.rds import RdsSnapshotStore
from providers.aws.rds_model import GIB, snapshot_identifier
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.repositories.manifest import SnapshotFields, SnapshotSource
from tests.providers.aws.conftest import DR_REGION, REGION, create_instance

DAY0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
Stores = tuple[RdsSnapshotStore, RdsSnapshotStore]


def fields(created: datetime = DAY0, tags: tuple[str, ...] = ()) -> SnapshotFields:
    return SnapshotFields(source=SnapshotSource(kind="database", address="database.apim_db",
                                                engine="rds"), created=created, tags=tags)


def sid(day: int) -> str:
    return (DAY0 + timedelta(days=day)).strftime("%Y%m%dT%H%M%SZ") + "-a1b2c3"


def take(store: RdsSnapshotStore, series: str, instance: str, day: int = 0) -> str:
    store.create(series, sid(day), instance=instance, fields=fields(DAY0 + timedelta(days=day)))
    return sid(day)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 that is bound but not listening: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_created_snapshot_is_listed_with_drydock_time_size_and_tags(
        stores: Stores, series: str, instance: str, rds_client: Callable[[str], Any]) -> None:
    primary, _dr = stores
    seen: list[str] = []
    snap, made = primary.create(series, sid(0), instance=instance,
                                fields=fields(tags=("nightly", "db")), progress=seen.append)
    assert made and snap.available
    assert snap.identifier == snapshot_identifier(series, sid(0))
    assert seen and "started from instance" in seen[0]

    described = rds_client(REGION).describe_db_snapshots(
        DBSnapshotIdentifier=snap.identifier)["DBSnapshots"][0]
    assert described["DBInstanceIdentifier"] == instance
    tags = {t["Key"]: t["Value"] for t in described["TagList"]}
    assert tags["drydock:series"] == series and tags["drydock:snapshot-id"] == sid(0)

    [entry] = primary.catalog_entries(series)
    assert (entry.id, entry.series, entry.repository) == (sid(0), series, "rds-primary")
    assert entry.created == DAY0  # drydock's clock, not the moto server's
    assert entry.size == 20 * GIB
    assert entry.tags == ("nightly", "db")
    assert entry.facts["instance"] == instance and entry.facts["status"] == "available"
    [manifest] = primary.list(series)
    assert (manifest.id, manifest.parts, manifest.source.engine) == (sid(0), (), "rds")
    assert primary.get_manifest(series, sid(0)) == manifest


def test_creating_an_existing_snapshot_returns_it_without_a_second_one(
        stores: Stores, series: str, instance: str) -> None:
    primary, _dr = stores
    first, made_first = primary.create(series, sid(0), instance=instance, fields=fields())
    again, made_again = primary.create(series, sid(0), instance=instance, fields=fields())
    assert (made_first, made_again) == (True, False)
    assert again.arn == first.arn
    assert [m.id for m in primary.list(series)] == [sid(0)]


def test_listing_keeps_to_the_series_oldest_first_and_ignores_foreign_snapshots(
        stores: Stores, series: str, instance: str, rds_client: Callable[[str], Any]) -> None:
    primary, _dr = stores
    take(primary, series, instance, day=2)
    take(primary, series, instance, day=0)
    take(primary, series + "-other", instance, day=1)
    client = rds_client(REGION)
    client.create_db_snapshot(DBSnapshotIdentifier=f"dd-{series}-by-hand",
                              DBInstanceIdentifier=instance)  # no drydock tags
    client.create_db_snapshot(DBSnapshotIdentifier=f"dd-{series}-bad-tags",
                              DBInstanceIdentifier=instance,
                              Tags=[{"Key": "drydock:series", "Value": series},
                                    {"Key": "drydock:snapshot-id", "Value": "../escape"}])
    assert [m.id for m in primary.list(series)] == [sid(0), sid(2)]
    assert [e.id for e in primary.catalog_entries(series + "-other")] == [sid(1)]


def test_a_copy_to_another_region_is_listed_there_under_the_same_series_and_id(
        stores: Stores, series: str, instance: str, rds_client: Callable[[str], Any]) -> None:
    primary, dr = stores
    take(primary, series, instance)
    seen: list[str] = []
    copy, made = dr.copy_from(primary, series, sid(0), progress=seen.append)
    assert made and copy.available and copy.region == DR_REGION
    assert copy.arn.startswith(f"arn:aws:rds:{DR_REGION}:")
    assert any("copy from eu-west-1 started" in line for line in seen)
    [entry] = dr.catalog_entries(series)
    assert (entry.id, entry.created, entry.repository, entry.size) == (
        sid(0), DAY0, "rds-dr", 20 * GIB)
    assert dr.verify(series, sid(0)).ok
    described = rds_client(DR_REGION).describe_db_snapshots(
        DBSnapshotIdentifier=copy.identifier)["DBSnapshots"]
    assert len(described) == 1

    again, made_again = dr.copy_from(primary, series, sid(0))
    assert not made_again and again.arn == copy.arn


def test_an_encrypted_snapshot_is_copied_encrypted_with_a_key_of_the_target_region(
        stores: Stores, series: str, rds_client: Callable[[str], Any]) -> None:
    primary, dr = stores
    encrypted = create_instance(rds_client(REGION), encrypted=True)
    source, _made = primary.create(series, sid(0), instance=encrypted, fields=fields())
    assert source.encrypted
    copy, _made = dr.copy_from(primary, series, sid(0))
    assert copy.encrypted
    assert copy.kms_key_id is not None and f":{DR_REGION}:" in copy.kms_key_id


def test_copying_within_one_region_or_a_missing_snapshot_is_refused(
        stores: Stores, series: str, instance: str, moto_endpoint: str) -> None:
    primary, dr = stores
    take(primary, series, instance)
    twin = RdsSnapshotStore("rds-twin", REGION, endpoint_url=moto_endpoint)
    with pytest.raises(RepositoryError, match="same region; copy RDS snapshots to another"):
        twin.copy_from(primary, series, sid(0))
    with pytest.raises(SnapshotNotFound, match="not available to copy"):
        dr.copy_from(primary, series, sid(5))


def test_delete_removes_the_snapshot_and_a_missing_one_is_not_found_unless_allowed(
        stores: Stores, series: str, instance: str) -> None:
    primary, _dr = stores
    take(primary, series, instance, day=0)
    take(primary, series, instance, day=1)
    primary.delete(series, sid(0))
    assert [m.id for m in primary.list(series)] == [sid(1)]
    with pytest.raises(SnapshotNotFound, match=f"snapshot {series}/{sid(0)}"):
        primary.delete(series, sid(0))
    primary.delete(series, sid(0), missing_ok=True)
    with pytest.raises(SnapshotNotFound):
        primary.verify(series, sid(0))
    with pytest.raises(SnapshotNotFound):
        primary.get_manifest(series, sid(0))


def test_an_identifier_taken_by_a_snapshot_without_our_tags_is_an_error_not_adopted(
        stores: Stores, series: str, instance: str, rds_client: Callable[[str], Any]) -> None:
    primary, _dr = stores
    rds_client(REGION).create_db_snapshot(
        DBSnapshotIdentifier=snapshot_identifier(series, sid(0)), DBInstanceIdentifier=instance)
    with pytest.raises(RepositoryError, match="is taken by a snapshot without drydock's tags"):
        primary.create(series, sid(0), instance=instance, fields=fields())
    with pytest.raises(RepositoryError, match="rename or delete that snapshot"):
        primary.delete(series, sid(0))


def test_a_missing_instance_is_one_line_naming_it(stores: Stores, series: str) -> None:
    primary, _dr = stores
    with pytest.raises(RepositoryError) as caught:
        primary.create(series, sid(0), instance="no-such-instance", fields=fields())
    message = str(caught.value)
    assert "\n" not in message
    assert "RDS instance 'no-such-instance' not found in region eu-west-1" in message
    assert primary.list(series) == []


def test_an_unreachable_endpoint_is_one_line_naming_it(
        series: str, closed_port: int, aws_env: None) -> None:
    endpoint = f"http://127.0.0.1:{closed_port}"
    store = RdsSnapshotStore("rds-primary", REGION, endpoint_url=endpoint)
    with pytest.raises(RepositoryError) as caught:
        store.list(series)
    message = str(caught.value)
    assert "\n" not in message
    assert f"repository rds-primary: cannot reach RDS endpoint {endpoint}" in message
