"""Read a `--snapshots FILE` for `backups forget --dry-run`: a JSON list of snapshots."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from engine.retention_models import RetentionSnapshot

_EXAMPLE_ENTRY = '{"id": "s1", "time": "2024-05-01T02:00:00+05:30", "tags": []}'


class ForgetError(ValueError):
    """A one-line, operator-facing reason why `backups forget` cannot run."""


def load_snapshot_file(path: Path) -> list[RetentionSnapshot]:
    """Read a JSON list of `{"id", "time", "tags"}` objects (optional `verified`,
    `pinned`; other keys, such as those of `restic snapshots --json`, are ignored).

    Raises: ForgetError naming the file, and the index of the entry when one is bad.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ForgetError(f"{path}: cannot read the snapshots file: {reason}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ForgetError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, list):
        raise ForgetError(f"{path}: expected a JSON list of snapshots like [{_EXAMPLE_ENTRY}]")
    snapshots: list[RetentionSnapshot] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(data):
        snapshot = _snapshot_entry(path, index, entry)
        if snapshot.id in first_index:
            raise ForgetError(
                f"{path}: entry {index}: id {snapshot.id!r} is already used by entry "
                f"{first_index[snapshot.id]}"
            )
        first_index[snapshot.id] = index
        snapshots.append(snapshot)
    return snapshots


def _snapshot_entry(path: Path, index: int, entry: object) -> RetentionSnapshot:
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        raise ForgetError(f"{where}: expected an object like {_EXAMPLE_ENTRY}")
    snapshot_id = entry.get("id")
    if not isinstance(snapshot_id, str) or not snapshot_id:
        raise ForgetError(f"{where}: 'id' must be a non-empty string")
    time_text = entry.get("time")
    if not isinstance(time_text, str):
        raise ForgetError(f"{where} ({snapshot_id}): 'time' must be an RFC 3339 string")
    time = _parse_time(time_text)
    if time is None:
        raise ForgetError(
            f"{where} ({snapshot_id}): time {time_text!r} is not RFC 3339 with a UTC "
            "offset, e.g. 2024-05-01T02:00:00+05:30 or 2024-04-30T20:30:00Z"
        )
    tags = entry.get("tags")
    if tags is None:
        tags = []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ForgetError(f"{where} ({snapshot_id}): 'tags' must be a list of strings")
    flags: dict[str, bool] = {}
    for flag in ("verified", "pinned"):
        value = entry.get(flag, False)
        if not isinstance(value, bool):
            raise ForgetError(f"{where} ({snapshot_id}): '{flag}' must be true or false")
        flags[flag] = value
    return RetentionSnapshot(
        id=snapshot_id,
        time=time,
        tags=tuple(tags),
        verified=flags["verified"],
        pinned=flags["pinned"],
    )


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    return value
