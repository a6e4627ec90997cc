"""The state document: its models, its checksum and its byte encoding (no I/O)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticSerializationError

from state.errors import StateCorruptError, StateError
from state.formats import STATE_FORMAT

CURRENT_FORMAT = STATE_FORMAT
"""The only document format this code reads and writes."""

CHECKSUM_PREFIX = "sha256:"


class FileFingerprint(BaseModel):
    """What a managed file looked like when last hashed; a refresh re-hashes only on change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(ge=0)
    mtime_ns: int
    inode: int
    sha256: str


class AppliedInfo(BaseModel):
    """Who applied what, from which commit, and when: the provenance of the last write."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    plan_id: str | None = None
    who: str
    when: AwareDatetime
    summary: str = ""


class ResourceRecord(BaseModel):
    """The recorded state of one resource, stored under its address `kind.name`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict)
    fingerprints: dict[str, FileFingerprint] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    updated_at: AwareDatetime | None = None

    @property
    def address(self) -> str:
        """The resource's address, e.g. ``server.gw-1``."""
        return f"{self.kind}.{self.name}"


class StateDocument(BaseModel):
    """One environment's recorded state; `serial` grows by one on every stored write."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = CURRENT_FORMAT
    environment: str = Field(min_length=1)
    lineage: str
    serial: int = Field(default=0, ge=0)
    applied: AppliedInfo | None = None
    resources: dict[str, ResourceRecord] = Field(default_factory=dict)
    checksum: str = ""

    @field_validator("lineage")
    @classmethod
    def _lineage_is_uuid(cls, value: str) -> str:
        try:
            uuid.UUID(value)
        except ValueError as err:
            raise ValueError(f"lineage {value!r} is not a UUID") from err
        return value

    @model_validator(mode="after")
    def _keys_are_addresses(self) -> StateDocument:
        for address, record in self.resources.items():
            if address != record.address:
                raise ValueError(f"resource stored under {address!r} says it is {record.address!r}")
        return self


def new_document(environment: str, *, lineage: str | None = None) -> StateDocument:
    """Return an empty document (serial 0) for `environment` with a fresh uuid4 lineage.

    `lineage` may be given to rebuild a document for an existing state (tests, imports).
    """
    return StateDocument(environment=environment, lineage=lineage or str(uuid.uuid4()))


def canonical_json(value: object) -> bytes:
    """Encode a JSON value canonically: sorted keys, compact separators, UTF-8.

    Raises ValueError for values JSON cannot carry (NaN, infinities, non-JSON types).
    """
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except TypeError as err:
        raise ValueError(str(err)) from err
    return text.encode("utf-8")


def _body(doc: StateDocument) -> dict[str, Any]:
    return doc.model_dump(mode="json", exclude={"checksum"})


def _checksum_of_body(body: dict[str, Any]) -> str:
    return CHECKSUM_PREFIX + hashlib.sha256(canonical_json(body)).hexdigest()


def compute_checksum(doc: StateDocument) -> str:
    """Return ``sha256:<hex>`` over the canonical JSON of `doc` without its checksum field."""
    return _checksum_of_body(_body(doc))


def encode(doc: StateDocument) -> tuple[StateDocument, bytes]:
    """Seal `doc` (fill its checksum) and encode it; returns (sealed document, file bytes).

    The bytes are pretty JSON with sorted keys and a trailing newline. Raises StateError
    when a recorded value cannot be written as JSON.
    """
    try:
        body = _body(doc)
        checksum = _checksum_of_body(body)
        body["checksum"] = checksum
        text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (ValueError, PydanticSerializationError) as err:
        raise StateError(
            f"state of environment {doc.environment!r} holds a value that is not JSON ({err}); "
            "fix the provider that recorded it"
        ) from err
    return doc.model_copy(update={"checksum": checksum}), (text + "\n").encode("utf-8")


def to_bytes(doc: StateDocument) -> bytes:
    """Return the file bytes of `doc` with its checksum filled (see `encode`)."""
    return encode(doc)[1]


def _json_problem(text: str, err: json.JSONDecodeError) -> str:
    body = text.strip()
    if err.pos >= len(text.rstrip()) or (body.startswith("{") and not body.endswith("}")):
        return "truncated: the JSON ends before the document is complete"
    return f"not JSON: {err.msg} at line {err.lineno} column {err.colno}"


def _first_schema_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    return f"does not match the state schema: {where}: {first['msg']}"


def from_bytes(data: bytes, *, source: str) -> StateDocument:
    """Parse and verify stored bytes; `source` names them in errors (a path or s3:// URL).

    Raises StateCorruptError when the bytes are empty, not UTF-8, not JSON, truncated, of
    an unknown format, missing their checksum, fail the checksum or break the schema.
    """
    if not data.strip():
        raise StateCorruptError(source, "empty file: truncated")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StateCorruptError(source, f"not UTF-8 text at byte {err.start}") from err
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise StateCorruptError(source, _json_problem(text, err)) from err
    if not isinstance(raw, dict):
        raise StateCorruptError(source, "not a JSON object")
    fmt = raw.get("format")
    if fmt != CURRENT_FORMAT:
        raise StateCorruptError(
            source, f"unknown format {fmt!r}; this drydock reads format {CURRENT_FORMAT}"
        )
    stored = raw.pop("checksum", None)
    if not isinstance(stored, str) or not stored:
        raise StateCorruptError(source, "no checksum")
    try:
        actual = _checksum_of_body(raw)
    except ValueError as err:
        raise StateCorruptError(source, f"not JSON: {err}") from err
    if actual != stored:
        raise StateCorruptError(source, "checksum mismatch")
    raw["checksum"] = stored
    try:
        return StateDocument.model_validate(raw)
    except ValidationError as err:
        raise StateCorruptError(source, _first_schema_problem(err)) from err


def with_resources(
    doc: StateDocument,
    upserts: Iterable[ResourceRecord] = (),
    removals: Iterable[str] = (),
) -> StateDocument:
    """Return a copy of `doc` with `upserts` stored under their addresses and `removals` gone.

    One copy of the resource map per call, so batch the records of many actions together.
    The copy keeps the old checksum until it is written (the manager re-seals it).
    """
    resources = dict(doc.resources)
    for address in removals:
        resources.pop(address, None)
    for record in upserts:
        resources[record.address] = record
    return doc.model_copy(update={"resources": resources})
