"""drydock's tags on AWS snapshots and images (pure): which series and snapshot they are.

A drydock snapshot in AWS (an RDS snapshot, an AMI) carries its series and snapshot id
in tags (``drydock:series``, ``drydock:snapshot-id``), so a repository is listed from
AWS alone. Its ``created`` time is drydock's clock when it was taken (``drydock:created``),
kept unchanged by copies; without that tag AWS's own creation time counts. Tags are read
from outside: a series or id that is not a valid drydock name is not drydock's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from providers.repositories.manifest import ManifestError, check_name, tool_version

TAG_SERIES = "drydock:series"
TAG_ID = "drydock:snapshot-id"
TAG_CREATED = "drydock:created"
TAG_SOURCE = "drydock:source"
TAG_TAGS = "drydock:tags"
TAG_TOOL = "drydock:tool-version"


def drydock_tags(series: str, snapshot_id: str, *, created: datetime, source: str,
                 tags: Sequence[str]) -> dict[str, str]:
    """The tags that make an AWS object a member of `series` (policy tags space-joined:
    AWS tag values allow no commas everywhere)."""
    pairs = {TAG_SERIES: series, TAG_ID: snapshot_id, TAG_CREATED: created.isoformat(),
             TAG_SOURCE: source, TAG_TOOL: tool_version()}
    if tags:
        pairs[TAG_TAGS] = " ".join(tags)
    return pairs


def tag_pairs(items: Iterable[Mapping[str, Any]] | None) -> tuple[tuple[str, str], ...]:
    """AWS's ``[{"Key": k, "Value": v}]`` as (key, value) pairs."""
    return tuple((str(t.get("Key", "")), str(t.get("Value", ""))) for t in items or ())


def tag_list(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """(key, value) pairs as AWS's TagList, without AWS's own ``aws:`` tags."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return [{"Key": k, "Value": v} for k, v in items if not k.startswith("aws:")]


def member_of(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """(series, snapshot id) named by the tags, or None when they do not make a valid one."""
    series, sid = tags.get(TAG_SERIES), tags.get(TAG_ID)
    if not series or not sid:
        return None
    try:
        check_name(series, what="series")
        check_name(sid, what="snapshot id")
    except ManifestError:
        return None
    return series, sid


def aware(value: Any) -> datetime | None:
    """A datetime from AWS (or an ISO 8601 text) in UTC; None when it is neither."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)


def created_at(tags: Mapping[str, str], fallback: datetime | None) -> datetime | None:
    """drydock's creation time from the tags (with its UTC offset), else `fallback`."""
    text = tags.get(TAG_CREATED)
    if text:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return fallback


def policy_tags(tags: Mapping[str, str]) -> tuple[str, ...]:
    """The policy's own tags kept in ``drydock:tags``."""
    return tuple(tags.get(TAG_TAGS, "").split())
