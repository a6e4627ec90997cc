"""restic-style retention durations (`1y2m3d4h`): parse, print, and turn into a cutoff."""

from __future__ import annotations

from datetime import MINYEAR, UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

_UNITS = "ymdh"
_HINT = "write it like 1y2m3d4h (y years, m months, d days, h hours)"


class RetentionDuration(BaseModel):
    """A calendar span for `within*` keep rules: years, months, days, then hours.

    All parts are zero or positive. A zero duration switches its rule off (restic does
    the same). `str()` gives the canonical spelling used in keep reasons.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    years: int = Field(default=0, ge=0)
    months: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)

    @property
    def is_zero(self) -> bool:
        """True when every part is zero, which means the rule using it is off."""
        return not (self.years or self.months or self.days or self.hours)

    def __str__(self) -> str:
        """Canonical spelling, zero parts left out: `1y2m3d4h`, `14d`, or `` for zero."""
        out = []
        for value, unit in (
            (self.years, "y"),
            (self.months, "m"),
            (self.days, "d"),
            (self.hours, "h"),
        ):
            if value:
                out.append(f"{value}{unit}")
        return "".join(out)


def parse_retention_duration(text: str) -> RetentionDuration:
    """Parse a restic duration such as `1y2m3d4h`, `30d` or `2m2h`.

    Takes: `<number><unit>` parts in any order, units `y` (years), `m` (months, not
    minutes), `d` (days), `h` (hours); when a unit repeats, the last value wins.
    Returns: the RetentionDuration.
    Raises: ValueError naming the text and what is wrong (empty, no number, negative
    number, missing or unknown unit).

    >>> str(parse_retention_duration("1y1d1m"))
    '1y1m1d'
    """
    raw = text.strip()
    if not raw:
        raise ValueError(f"empty retention duration: {_HINT}")
    values = {"y": 0, "m": 0, "d": 0, "h": 0}
    pos = 0
    while pos < len(raw):
        if raw[pos] == "-":
            raise ValueError(f"retention duration {text!r} is negative: {_HINT}")
        start = pos
        while pos < len(raw) and "0" <= raw[pos] <= "9":
            pos += 1
        if pos == start:
            raise ValueError(
                f"retention duration {text!r}: expected a number at {raw[start:]!r}; {_HINT}"
            )
        number = int(raw[start:pos])
        if pos == len(raw):
            raise ValueError(
                f"retention duration {text!r}: no unit after the number {number}; {_HINT}"
            )
        unit = raw[pos]
        if unit not in _UNITS:
            raise ValueError(
                f"retention duration {text!r}: unknown unit {unit!r} after {number}; {_HINT}"
            )
        values[unit] = number
        pos += 1
    return RetentionDuration(
        years=values["y"], months=values["m"], days=values["d"], hours=values["h"]
    )


def cutoff_before(anchor: datetime, duration: RetentionDuration) -> datetime | None:
    """Return the instant `duration` before `anchor`, computed the way restic does it.

    Years, months and days come off the anchor's wall clock at once, Go `AddDate` style:
    a day that overflows its month rolls forward instead of being clamped (Mar 31 minus
    one month is "Feb 31", i.e. Mar 3, or Mar 2 in a leap year). The hours then come off
    as elapsed time. The wall clock is read in the anchor's own zone; convert the anchor
    first to measure in another zone.

    Takes: an aware anchor and a duration. Returns: the aware cutoff in UTC, or None
    when it falls before the earliest representable time (then every snapshot is after
    it). Raises: ValueError when the anchor is naive.

    >>> from datetime import timezone
    >>> cutoff_before(datetime(2024, 3, 31, tzinfo=timezone.utc),
    ...               parse_retention_duration("1m")).date().isoformat()
    '2024-03-02'
    """
    if anchor.tzinfo is None or anchor.utcoffset() is None:
        raise ValueError("the anchor of a retention duration must carry a UTC offset")
    month_index = anchor.month - 1 - duration.months
    year = anchor.year - duration.years + month_index // 12
    month = month_index % 12 + 1
    if year < MINYEAR:
        return None
    try:
        day = date(year, month, 1) + timedelta(days=anchor.day - 1 - duration.days)
        wall = datetime.combine(day, anchor.timetz()).replace(fold=0)
        return wall.astimezone(UTC) - timedelta(hours=duration.hours)
    except OverflowError:
        return None
