"""The snapshot manifest: what a snapshot holds, written last and read to list a repository."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from importlib import metadata
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_serializer,
    field_validator,
)

MANIFEST_NAME = "manifest.json"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")

PartKind = Literal["tar", "dump", "sqlite"]
SourceKind = Literal["database", "paths", "server", "host"]


class ManifestError(ValueError):
    """A manifest could not be read or a name in it is not acceptable."""


def check_name(value: str, *, what: str) -> str:
    """Return `value` when it is a safe single path component (series, snapshot id, part).

    Takes the name and what it names (for the message); raises ManifestError otherwise.

    >>> check_name("apim-db", what="series")
    'apim-db'
    """
    if not _NAME_RE.match(value) or ".." in value or value == MANIFEST_NAME:
        raise ManifestError(
            f"{what} {value!r} is not a valid name; use letters, digits, '.', '_', ':' or '-'"
        )
    return value


def new_snapshot_id(now: datetime) -> str:
    """Return a sortable, unique snapshot id for `now`, e.g. ``20261125T170233Z-3f9a1c``.

    Takes an aware datetime (converted to UTC); raises ValueError for a naive one.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("new_snapshot_id needs an aware datetime")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


DISTRIBUTION = "drydock-estate"
"""The name drydock is installed under (`pip install drydock-estate`; the command and
the import package are `drydock`)."""


def tool_version() -> str:
    """Return the installed drydock version (of the `drydock-estate` distribution, the
    `drydock --version` one), or ``0+unknown`` when it is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


class SnapshotSource(BaseModel):
    """Where a snapshot came from: the resource address, its engine and facts worth keeping."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SourceKind
    address: str
    engine: str | None = None
    facts: dict[str, JsonValue] = Field(default_factory=dict)


class PartInfo(BaseModel):
    """One stored data part: sizes and the sha256 of the bytes as stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: PartKind
    compression: Literal["zstd"] = "zstd"
    size: int = Field(ge=0)
    raw_size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return check_name(value, what="part")

    @property
    def stored_name(self) -> str:
        """The object/file name the part is stored under (``<name>.zst``)."""
        return stored_name(self.name)


def stored_name(part_name: str) -> str:
    """Return the stored file name of a zstd part called `part_name`."""
    return f"{part_name}.zst"


class SnapshotFields(BaseModel):
    """What the caller of ``Repository.put`` says about a snapshot besides its parts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: SnapshotSource
    created: AwareDatetime
    tags: tuple[str, ...] = ()
    tool_version: str = Field(default_factory=tool_version)


class Manifest(BaseModel):
    """A snapshot's self-description; its presence is what makes a snapshot exist."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1] = 1
    series: str
    id: str
    source: SnapshotSource
    created: AwareDatetime
    parts: tuple[PartInfo, ...]
    tool_version: str
    tags: tuple[str, ...] = ()
    mac: str | None = Field(default=None, pattern=r"^hmac-sha256:[0-9a-f]{64}$")

    @field_validator("series", "id")
    @classmethod
    def _safe_names(cls, value: str) -> str:
        return check_name(value, what="series or snapshot id")

    @field_serializer("created")
    def _created_with_offset(self, value: datetime) -> str:
        return value.isoformat()

    @property
    def size(self) -> int:
        """Total stored bytes of all parts."""
        return sum(p.size for p in self.parts)

    def part(self, name: str) -> PartInfo:
        """Return the part called `name`; raises KeyError when there is none."""
        for info in self.parts:
            if info.name == name:
                return info
        raise KeyError(name)

    def to_json(self) -> bytes:
        """Serialise to UTF-8 JSON (created keeps its UTC offset)."""
        data = self.model_dump(mode="json", exclude_none=False)
        if data.get("mac") is None:
            data.pop("mac", None)
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes, *, where: str) -> Manifest:
        """Parse manifest JSON read from `where`; raises ManifestError naming it."""
        try:
            return cls.model_validate_json(data)
        except ValueError as exc:
            if not isinstance(exc, ValidationError):
                raise ManifestError(f"{where}: invalid manifest ({exc})") from None
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(top)"
            raise ManifestError(f"{where}: invalid manifest at {loc}: {first['msg']}") from None


def build_manifest(
    series: str, snapshot_id: str, fields: SnapshotFields, parts: list[PartInfo]
) -> Manifest:
    """Combine the caller's fields with the stored parts into a Manifest."""
    return Manifest(
        series=series,
        id=snapshot_id,
        source=fields.source,
        created=fields.created,
        parts=tuple(parts),
        tool_version=fields.tool_version,
        tags=fields.tags,
    )
