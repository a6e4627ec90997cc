"""Parse and format the short durations used in specs (`24h`, `30d`, `15m`, `120s`)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)([smhdw])")


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Turn `"1d12h"`, `"90s"` or a number of seconds into a timedelta.

    Units: s, m (minutes), h, d, w. Raises ValueError naming the bad text.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        return timedelta(seconds=float(text))
    raw = str(text).strip().lower()
    pos = 0
    total = 0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not raw or pos != len(raw):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit, e.g. 90s, 15m, 24h, 30d, 1w"
        )
    return timedelta(seconds=total)


def format_duration(delta: timedelta) -> str:
    """Render a timedelta compactly, largest units first: `1d2h`, `15m`, `0s`."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(out) or "0s")
