"""State document: models, checksum, byte encoding and every way stored bytes can be bad."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from state.document import (
    AppliedInfo,
    FileFingerprint,
    ResourceRecord,
    StateDocument,
    canonical_json,
    compute_checksum,
    encode,
    from_bytes,
    new_document,
    to_bytes,
    with_resources,
)
from state.errors import StateCorruptError, StateError

COLOMBO = timezone(timedelta(hours=5, minutes=30))


def _sample() -> StateDocument:
    server = ResourceRecord(
        kind="server",
        name="gw-1",
        attributes={"update_level": 14, "patches": ["WSO2-CARBON-PATCH-4.9.0-0005"]},
        fingerprints={
            "repository/conf/deployment.toml": FileFingerprint(
                size=120, mtime_ns=1_700_000_000_123_456_789, inode=42, sha256="ab" * 32
            )
        },
        data={"change_backups": [{"id": "b1", "ratio": 0.5}]},
        updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=COLOMBO),
    )
    doc = new_document("demo")
    return with_resources(doc, [server]).model_copy(
        update={
            "serial": 3,
            "applied": AppliedInfo(
                commit="0" * 40,
                branch="main",
                dirty=False,
                plan_id="p-1",
                who="ops@example",
                when=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                summary="1 changed",
            ),
        }
    )


def _rechecksum(raw: dict[str, object]) -> bytes:
    """Re-seal hand-edited JSON so only the edit (not the checksum) is wrong."""
    import hashlib

    body = {k: v for k, v in raw.items() if k != "checksum"}
    raw["checksum"] = "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()
    return json.dumps(raw).encode()


def test_new_document_is_empty_serial_zero_with_uuid_lineage() -> None:
    doc = new_document("demo")
    assert (doc.format, doc.environment, doc.serial, doc.resources) == (1, "demo", 0, {})
    assert uuid.UUID(doc.lineage).version == 4
    assert new_document("demo").lineage != doc.lineage


def test_round_trip_keeps_every_field_and_checksum() -> None:
    doc = _sample()
    sealed, data = encode(doc)
    again = from_bytes(data, source="demo.json")
    assert again == sealed
    assert again.checksum == compute_checksum(doc)
    assert again.resources["server.gw-1"].updated_at == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=COLOMBO
    )


def test_encoding_is_stable_pretty_sorted_and_newline_terminated() -> None:
    doc = _sample()
    data = to_bytes(doc)
    assert data == to_bytes(from_bytes(data, source="x"))
    assert data.endswith(b"}\n")
    keys = list(json.loads(data))
    assert keys == sorted(keys)
    assert b'\n  "environment": "demo",\n' in data


def test_checksum_ignores_the_checksum_field_itself() -> None:
    doc = _sample()
    assert compute_checksum(doc) == compute_checksum(doc.model_copy(update={"checksum": "x"}))
    assert compute_checksum(doc) != compute_checksum(doc.model_copy(update={"serial": 4}))


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda data: b"", "empty file: truncated"),
        (lambda data: data[: len(data) // 2], "truncated"),
        (lambda data: b"not json at all", "not JSON"),
        (lambda data: b"\xff\xfe\x00", "not UTF-8"),
        (lambda data: b"[1, 2]", "not a JSON object"),
        (lambda data: data.replace(b'"demo"', b'"dem0"'), "checksum mismatch"),
    ],
)
def test_bad_bytes_are_refused_naming_source_and_problem(
    mangle: Callable[[bytes], bytes], reason: str
) -> None:
    data = mangle(to_bytes(_sample()))
    with pytest.raises(StateCorruptError) as caught:
        from_bytes(data, source=".drydock/state/demo.json")
    message = str(caught.value)
    assert message.startswith("state .drydock/state/demo.json is corrupt (")
    assert reason in message
    assert "\n" not in message


def test_unknown_format_is_refused() -> None:
    raw = json.loads(to_bytes(_sample()))
    raw["format"] = 2
    with pytest.raises(StateCorruptError, match="unknown format 2; this drydock reads format 1"):
        from_bytes(_rechecksum(raw), source="demo.json")


def test_missing_checksum_is_refused() -> None:
    raw = json.loads(to_bytes(_sample()))
    del raw["checksum"]
    with pytest.raises(StateCorruptError, match="no checksum"):
        from_bytes(json.dumps(raw).encode(), source="demo.json")


def test_schema_violation_with_valid_checksum_is_refused() -> None:
    raw = json.loads(to_bytes(_sample()))
    raw["resources"]["server.gw-2"] = raw["resources"].pop("server.gw-1")
    with pytest.raises(StateCorruptError, match="does not match the state schema"):
        from_bytes(_rechecksum(raw), source="demo.json")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError):
        AppliedInfo(who="x", when=datetime(2026, 1, 1))


def test_non_json_attribute_cannot_be_encoded() -> None:
    record = ResourceRecord(kind="server", name="gw-1", attributes={"handle": object()})
    doc = with_resources(new_document("demo"), [record])
    with pytest.raises(StateError, match="not JSON"):
        to_bytes(doc)


def test_with_resources_upserts_and_removes_without_touching_the_original() -> None:
    doc = _sample()
    db = ResourceRecord(kind="database", name="apim_db", attributes={"engine": "sqlite"})
    changed = with_resources(doc, [db], removals=["server.gw-1"])
    assert list(changed.resources) == ["database.apim_db"]
    assert list(doc.resources) == ["server.gw-1"]


def test_documents_are_frozen_values() -> None:
    doc = new_document("demo")
    with pytest.raises(ValidationError):
        doc.serial = 5  # type: ignore[misc]
