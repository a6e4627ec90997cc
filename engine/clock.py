"""The one place the real clock is read; `DRYDOCK_NOW` (RFC 3339) overrides it."""

from __future__ import annotations

import os
from datetime import UTC, datetime


class ClockError(ValueError):
    """DRYDOCK_NOW is set but is not an RFC 3339 time with an offset."""


def now(environ: dict[str, str] | None = None) -> datetime:
    """The current time, aware; `DRYDOCK_NOW` wins when set.

    >>> now({"DRYDOCK_NOW": "2026-01-02T03:04:05Z"}).isoformat()
    '2026-01-02T03:04:05+00:00'
    """
    env = os.environ if environ is None else environ
    raw = env.get("DRYDOCK_NOW")
    if not raw:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ClockError(f"DRYDOCK_NOW={raw!r} is not RFC 3339 (e.g. 2026-11-25T10:00:00Z)") \
            from exc
    if value.tzinfo is None:
        raise ClockError(f"DRYDOCK_NOW={raw!r} needs a UTC offset (Z or +05:30)")
    return value
