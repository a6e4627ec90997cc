"""Waiting for an RDS snapshot: progress lines, the bounded wait and a failed snapshot.

moto makes every snapshot `available` at once, so a snapshot that stays `creating` or
ends `failed` cannot be caused for real: these tests feed RDS's answers to a real boto3
client through botocore's Stubber (the waiter, the store and the messages are real).
Polls are 0 s apart, so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from providers.aws.rds import RdsSnapshotStore, RdsWait
from providers.aws.rds_model import snapshot_identifier, snapshot_tags
from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import SnapshotFields, SnapshotSource

SERIES, SID = "apim-db", "20260101T020000Z-a1b2c3"
IDENT = snapshot_identifier(SERIES, SID)
NOW = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
FIELDS = SnapshotFields(source=SnapshotSource(kind="database", address="database.apim_db",
                                              engine="rds"), created=NOW)


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[Any, Any]]:
    """A real boto3 RDS client with botocore's Stubber active on it."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("rds", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def snapshot(status: str, percent: int) -> dict[str, Any]:
    tags = snapshot_tags(SERIES, SID, created=NOW, source="database.apim_db", tags=())
    return {"DBSnapshotIdentifier": IDENT, "DBInstanceIdentifier": "apim", "Status": status,
            "PercentProgress": percent, "AllocatedStorage": 20, "TagList": tags,
            "DBSnapshotArn": f"arn:aws:rds:eu-west-1:123456789012:snapshot:{IDENT}",
            "SnapshotCreateTime": NOW}


def start(stubber: Any) -> None:
    stubber.add_client_error("describe_db_snapshots", service_error_code="DBSnapshotNotFound",
                             http_status_code=404, expected_params={"DBSnapshotIdentifier": IDENT})
    stubber.add_response("create_db_snapshot", {"DBSnapshot": snapshot("creating", 0)})


def polls(stubber: Any, *answers: tuple[str, int]) -> None:
    for status, percent in answers:
        stubber.add_response("describe_db_snapshots", {"DBSnapshots": [snapshot(status, percent)]},
                             {"DBSnapshotIdentifier": IDENT})


def test_progress_is_reported_while_rds_creates_the_snapshot(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    start(stubber)
    polls(stubber, ("creating", 30), ("creating", 70), ("available", 100), ("available", 100))
    store = RdsSnapshotStore("rds-a", "eu-west-1", client=client,
                             wait=RdsWait(poll=timedelta(0), attempts=10, report_every=1))
    seen: list[str] = []
    snap, made = store.create(SERIES, SID, instance="apim", fields=FIELDS, progress=seen.append)
    assert made and snap.available
    assert [line.split(": ")[-1] for line in seen] == [
        "started from instance apim", "creating (30%) after 1 checks, 0:00:00",
        "creating (70%) after 2 checks, 0:00:00"]


def test_the_wait_is_bounded_and_the_error_says_what_to_do(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    start(stubber)
    polls(stubber, ("creating", 10), ("creating", 20), ("creating", 25))
    store = RdsSnapshotStore("rds-a", "eu-west-1", client=client,
                             wait=RdsWait(poll=timedelta(0), attempts=3, report_every=2))
    with pytest.raises(RepositoryError) as caught:
        store.create(SERIES, SID, instance="apim", fields=FIELDS)
    message = str(caught.value)
    assert "\n" not in message
    assert f"snapshot {SERIES}/{SID} (RDS {IDENT} in eu-west-1): still creating (25%)" in message
    assert "is listed once available: run apply again later" in message


def test_a_failed_snapshot_is_an_error_naming_its_status(stubbed: tuple[Any, Any]) -> None:
    client, stubber = stubbed
    start(stubber)
    polls(stubber, ("creating", 10), ("failed", 10))
    store = RdsSnapshotStore("rds-a", "eu-west-1", client=client,
                             wait=RdsWait(poll=timedelta(0), attempts=5, report_every=5))
    with pytest.raises(RepositoryError, match="RDS reports status failed; the snapshot failed"):
        store.create(SERIES, SID, instance="apim", fields=FIELDS)


def test_lasting_turns_a_duration_into_bounded_polls() -> None:
    wait = RdsWait.lasting(timedelta(hours=2), poll=timedelta(seconds=30),
                           report_every=timedelta(minutes=5))
    assert (wait.attempts, wait.report_every, wait.poll) == (240, 10, timedelta(seconds=30))
    assert RdsWait.lasting(timedelta(seconds=5), poll=timedelta(0)).poll == timedelta(seconds=1)
