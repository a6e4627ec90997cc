"""RDS snapshots as drydock sees them (pure): identifiers, tags, and their catalog forms.

A drydock RDS snapshot carries its series and snapshot id in tags (``drydock:series``,
``drydock:snapshot-id``), so a repository can be listed from AWS alone; its identifier
is derived from both (``dd-<series>-<id>`` in RDS's alphabet). Its ``created`` time is
drydock's clock when it was taken (tag ``drydock:created``), kept unchanged by copies;
snapshots without that tag fall back to RDS's original creation time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, JsonValue

from providers.aws.item_model import AwsSnapshot
from providers.aws.tagging import (
    TAG_SOURCE,
    TAG_TOOL,
    aware,
    created_at,
    drydock_tags,
    member_of,
    policy_tags,
    tag_list,
    tag_pairs,
)

GIB = 1 << 30
MAX_IDENTIFIER = 255
PREFIX = "dd-"


def _rds_alphabet(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def snapshot_identifier(series: str, snapshot_id: str) -> str:
    """The RDS identifier of a drydock snapshot: letters, digits and single hyphens.

    Takes the series and snapshot id; returns ``dd-<series>-<id>`` lowercased, other
    characters turned into hyphens, shortened with a digest when over 255 characters.

    >>> snapshot_identifier("apim-db", "20260101T020000Z-3f9a1c")
    'dd-apim-db-20260101t020000z-3f9a1c'
    """
    series_part = _rds_alphabet(series) or "x"
    id_part = _rds_alphabet(snapshot_id) or "x"
    identifier = f"{PREFIX}{series_part}-{id_part}"
    if len(identifier) > MAX_IDENTIFIER:
        digest = hashlib.sha256(series.encode()).hexdigest()[:8]
        room = MAX_IDENTIFIER - len(PREFIX) - len(id_part) - len(digest) - 2
        identifier = f"{PREFIX}{series_part[:room].rstrip('-')}-{digest}-{id_part}"
    return identifier


def snapshot_tags(series: str, snapshot_id: str, *, created: datetime, source: str,
                  tags: Sequence[str]) -> list[dict[str, str]]:
    """The RDS tags that make a snapshot a member of `series` (TagList form)."""
    return tag_list(drydock_tags(series, snapshot_id, created=created, source=source,
                                 tags=tags))


class RdsSnapshot(AwsSnapshot):
    """One drydock RDS snapshot in one region, as DescribeDBSnapshots reports it (its size
    is the instance's allocated storage)."""

    source_kind: ClassVar[Literal["database", "host"]] = "database"
    source_engine: ClassVar[str] = "rds"

    identifier: str
    arn: str
    status: str
    percent: int = 0
    instance: str
    engine: str | None = None
    engine_version: str | None = None
    encrypted: bool = False
    kms_key_id: str | None = None
    rds_created: AwareDatetime | None = None

    @property
    def available(self) -> bool:
        """True when RDS reports the snapshot usable (``available``)."""
        return self.status == "available"

    @property
    def label(self) -> str:
        """The RDS snapshot identifier."""
        return self.identifier

    def facts(self) -> dict[str, JsonValue]:
        """What is worth keeping about the snapshot in catalogs and manifests."""
        return {"identifier": self.identifier, "arn": self.arn, "region": self.region,
                "instance": self.instance, "engine": self.engine,
                "engine_version": self.engine_version, "status": self.status,
                "encrypted": self.encrypted, "allocated_storage_bytes": self.size,
                "rds_created": self.rds_created.isoformat() if self.rds_created else None}



def parse_snapshot(item: Mapping[str, Any], region: str) -> RdsSnapshot | None:
    """An RdsSnapshot from one DescribeDBSnapshots item, or None when it is not drydock's.

    Tags are read from outside: a series or id that is not a valid drydock name, or a
    snapshot without both tags, is not a drydock snapshot and is ignored.
    """
    pairs = tag_pairs(item.get("TagList"))
    tags = dict(pairs)
    member = member_of(tags)
    if member is None:
        return None
    series, sid = member
    rds_created = aware(item.get("OriginalSnapshotCreateTime")) or aware(
        item.get("SnapshotCreateTime"))
    created = created_at(tags, rds_created)
    if created is None:
        return None
    identifier = str(item.get("DBSnapshotIdentifier", ""))
    instance = str(item.get("DBInstanceIdentifier", ""))
    return RdsSnapshot(
        identifier=identifier, arn=str(item.get("DBSnapshotArn", "")), region=region,
        series=series, id=sid, created=created, status=str(item.get("Status", "unknown")),
        percent=int(item.get("PercentProgress") or 0), instance=instance,
        engine=item.get("Engine"), engine_version=item.get("EngineVersion"),
        size=int(item.get("AllocatedStorage") or 0) * GIB,
        encrypted=bool(item.get("Encrypted")), kms_key_id=item.get("KmsKeyId"),
        source=tags.get(TAG_SOURCE) or f"rds:{instance}",
        tags=policy_tags(tags),
        tool_version=tags.get(TAG_TOOL) or "0+unknown", rds_created=rds_created,
        tag_list=pairs)
