"""AMIs as drydock sees them (pure): names, tags, and their catalog and manifest forms.

A drydock AMI is named ``dd-<series>-<id>`` (unique per account and region, so a run
that crashed after asking for it finds it again by name) and carries drydock's tags
(`providers.aws.tagging`), which alone make it a member of a series. Its EBS snapshots
carry the same tags, so retention finds and deletes them even when their AMI is gone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import JsonValue

from providers.aws.item_model import AwsSnapshot
from providers.aws.tagging import (
    TAG_SOURCE,
    TAG_TOOL,
    aware,
    created_at,
    member_of,
    policy_tags,
    tag_pairs,
)

GIB = 1 << 30
MAX_NAME = 128
PREFIX = "dd-"


def image_name(series: str, snapshot_id: str) -> str:
    """The AMI name of a drydock snapshot (letters, digits, ``.-_``; at most 128).

    >>> image_name("node-a-image", "20260101T020000Z-3f9a1c")
    'dd-node-a-image-20260101T020000Z-3f9a1c'
    """
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{series}-{snapshot_id}")
    name = PREFIX + clean
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_NAME - 9]}-{digest}"
    return name


class Ami(AwsSnapshot):
    """One drydock AMI in one region, as DescribeImages reports it (its size is that of
    its volumes)."""

    source_kind: ClassVar[Literal["database", "host"]] = "host"
    source_engine: ClassVar[str] = "ec2-image"

    image_id: str
    name: str
    state: str
    instance: str | None = None
    snapshot_ids: tuple[str, ...] = ()
    encrypted: bool = False

    @property
    def available(self) -> bool:
        """True when EC2 reports the image usable (``available``)."""
        return self.state == "available"

    @property
    def status(self) -> str:
        """EC2's state of the image (``pending``, ``available``, ``failed``…)."""
        return self.state

    @property
    def label(self) -> str:
        """The AMI id."""
        return self.image_id

    def facts(self) -> dict[str, JsonValue]:
        """What is worth keeping about the AMI in catalogs and manifests."""
        return {"image_id": self.image_id, "name": self.name, "region": self.region,
                "instance": self.instance, "state": self.state, "encrypted": self.encrypted,
                "snapshot_ids": list(self.snapshot_ids), "volume_bytes": self.size}



def parse_image(item: Mapping[str, Any], region: str) -> Ami | None:
    """An Ami from one DescribeImages item, or None when its tags are not drydock's."""
    pairs = tag_pairs(item.get("Tags"))
    tags = dict(pairs)
    member = member_of(tags)
    if member is None:
        return None
    created = created_at(tags, aware(item.get("CreationDate")))
    if created is None:
        return None
    series, sid = member
    ebs = [m.get("Ebs") or {} for m in item.get("BlockDeviceMappings") or ()]
    return Ami(
        image_id=str(item.get("ImageId", "")), name=str(item.get("Name", "")), region=region,
        series=series, id=sid, created=created, state=str(item.get("State", "unknown")),
        instance=item.get("SourceInstanceId"),
        snapshot_ids=tuple(str(e["SnapshotId"]) for e in ebs if e.get("SnapshotId")),
        size=sum(int(e.get("VolumeSize") or 0) for e in ebs) * GIB,
        encrypted=any(bool(e.get("Encrypted")) for e in ebs),
        source=tags.get(TAG_SOURCE) or f"host:{item.get('SourceInstanceId', '')}",
        tags=policy_tags(tags), tool_version=tags.get(TAG_TOOL) or "0+unknown",
        tag_list=pairs)
