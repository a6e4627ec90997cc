"""RDS snapshot identifiers and tags (pure): RDS's naming rules, membership, created time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from providers.aws.rds_model import GIB, parse_snapshot, snapshot_identifier, snapshot_tags
from providers.aws.tagging import TAG_CREATED

RDS_IDENTIFIER = re.compile(r"^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
NOW = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
RDS_TIME = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(("series", "snapshot_id"), [
    ("apim-db", "20260101T020000Z-3f9a1c"),
    ("APIM_db.v2:x", "20260101T020000Z-3f9a1c"),
    ("s" * 128, "i" * 128),
    ("9lives", "_x_"),
])
def test_identifiers_follow_rds_rules(series: str, snapshot_id: str) -> None:
    identifier = snapshot_identifier(series, snapshot_id)
    assert RDS_IDENTIFIER.match(identifier), identifier
    assert len(identifier) <= 255
    assert identifier.startswith("dd-")


def test_the_identifier_reads_as_series_and_id() -> None:
    assert snapshot_identifier("apim-db", "20260101T020000Z-3f9a1c") == (
        "dd-apim-db-20260101t020000z-3f9a1c")


def test_long_series_stay_distinct_after_shortening() -> None:
    a = snapshot_identifier("a" * 127 + "1", "i" * 128)
    b = snapshot_identifier("a" * 127 + "2", "i" * 128)
    assert a != b and len(a) <= 255 and len(b) <= 255


def item(tags: list[dict[str, str]], **extra: object) -> dict[str, object]:
    return {"DBSnapshotIdentifier": "dd-apim-db-x", "DBInstanceIdentifier": "apim",
            "DBSnapshotArn": "arn:aws:rds:eu-west-1:1:snapshot:dd-apim-db-x",
            "Status": "available", "AllocatedStorage": 20, "SnapshotCreateTime": RDS_TIME,
            "TagList": tags, **extra}


def test_a_tagged_snapshot_parses_with_drydock_created_time_and_tags() -> None:
    colombo = timezone(timedelta(hours=5, minutes=30))
    tags = snapshot_tags("apim-db", "snap-1", created=NOW.astimezone(colombo),
                         source="database.apim_db", tags=["nightly", "pre-upgrade"])
    snap = parse_snapshot(item(tags), "eu-west-1")
    assert snap is not None
    assert (snap.series, snap.id, snap.source) == ("apim-db", "snap-1", "database.apim_db")
    assert snap.created == NOW and snap.created.utcoffset() == timedelta(hours=5, minutes=30)
    assert snap.rds_created == RDS_TIME
    assert snap.tags == ("nightly", "pre-upgrade")
    assert snap.size == 20 * GIB
    assert all("," not in t["Value"] for t in tags)


def test_without_a_created_tag_the_original_creation_time_is_used() -> None:
    tags = [t for t in snapshot_tags("apim-db", "snap-1", created=NOW, source="x", tags=())
            if t["Key"] != TAG_CREATED]
    original = RDS_TIME - timedelta(days=3)
    snap = parse_snapshot(item(tags, OriginalSnapshotCreateTime=original), "eu-west-1")
    assert snap is not None and snap.created == original


@pytest.mark.parametrize("tags", [
    [],
    [{"Key": "drydock:series", "Value": "apim-db"}],
    [{"Key": "drydock:series", "Value": "../x"}, {"Key": "drydock:snapshot-id", "Value": "a"}],
    [{"Key": "drydock:series", "Value": "a"}, {"Key": "drydock:snapshot-id", "Value": "a/b"}],
])
def test_snapshots_without_valid_membership_tags_are_not_drydocks(
        tags: list[dict[str, str]]) -> None:
    assert parse_snapshot(item(tags), "eu-west-1") is None


def test_copy_tags_leave_out_aws_reserved_tags() -> None:
    tags = snapshot_tags("apim-db", "snap-1", created=NOW, source="x", tags=())
    snap = parse_snapshot(item([*tags, {"Key": "aws:backup:source", "Value": "y"}]), "r")
    assert snap is not None
    assert {t["Key"] for t in snap.copy_tags()} == {t["Key"] for t in tags}
