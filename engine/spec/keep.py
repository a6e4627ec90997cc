"""The `keep:` retention policy of a backup series (restic's forget rules plus drydock's)."""

from __future__ import annotations

from pydantic import Field, StrictInt, field_validator

from engine.retention_duration import RetentionDuration, parse_retention_duration
from engine.spec.common import SpecModel

COUNT_FIELDS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
"""The count rules, in the order restic evaluates them."""

WITHIN_FIELDS = (
    "within",
    "within_hourly",
    "within_daily",
    "within_weekly",
    "within_monthly",
    "within_yearly",
)
"""The duration rules, in the order restic evaluates them."""


class KeepPolicy(SpecModel):
    """Which snapshots of a series to keep; everything else may be pruned.

    Counts: 0 switches a rule off, -1 keeps every bucket, N keeps the newest snapshot of
    each of the N newest buckets. Durations are restic's (`1y2m3d4h`, `m` = months) and
    are measured back from the newest snapshot, not from now. `tags` is a list of tag
    sets: a snapshot carrying all tags of any one set is kept. `min_verified` keeps the
    newest N snapshots that passed a drill or verify, whatever the other rules say.

    >>> KeepPolicy(last=3, daily=7, within="1m").is_empty
    False
    """

    last: StrictInt = 0
    hourly: StrictInt = 0
    daily: StrictInt = 0
    weekly: StrictInt = 0
    monthly: StrictInt = 0
    yearly: StrictInt = 0
    within: str | None = None
    within_hourly: str | None = None
    within_daily: str | None = None
    within_weekly: str | None = None
    within_monthly: str | None = None
    within_yearly: str | None = None
    tags: list[list[str]] = Field(default_factory=list)
    min_verified: StrictInt = 0

    @field_validator(*COUNT_FIELDS)
    @classmethod
    def _count(cls, value: int) -> int:
        if value < -1:
            raise ValueError(
                f"{value} is not a keep count: use 0 (off), a positive number, "
                "or -1 (keep every bucket)"
            )
        return value

    @field_validator(*WITHIN_FIELDS)
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_retention_duration(value)
        return value

    @field_validator("tags")
    @classmethod
    def _tag_sets(cls, value: list[list[str]]) -> list[list[str]]:
        for index, tag_set in enumerate(value):
            if not tag_set:
                raise ValueError(
                    f"tag set {index} is empty and would keep every snapshot; list at "
                    'least one tag, or [""] for snapshots without tags'
                )
        return value

    @field_validator("min_verified")
    @classmethod
    def _min_verified(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"min_verified must be 0 or more, not {value}")
        return value

    @property
    def is_empty(self) -> bool:
        """True when no rule is set: no counts, no non-zero durations, no tags, no
        min_verified. Such a policy keeps nothing by itself."""
        if self.tags or self.min_verified:
            return False
        if any(getattr(self, name) for name in COUNT_FIELDS):
            return False
        return all(self.duration(name) is None for name in WITHIN_FIELDS)

    def duration(self, name: str) -> RetentionDuration | None:
        """Return the parsed duration of the `within*` field `name`, or None when it is
        unset or zero (a zero duration switches its rule off).

        Raises: KeyError for a name that is not one of WITHIN_FIELDS.
        """
        if name not in WITHIN_FIELDS:
            raise KeyError(name)
        text = getattr(self, name)
        if text is None:
            return None
        parsed = parse_retention_duration(text)
        return None if parsed.is_zero else parsed
