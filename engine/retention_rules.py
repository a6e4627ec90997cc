"""Walk state of the keep rules: bucket keys, selections, and why a snapshot was let go."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from engine.retention_duration import RetentionDuration, cutoff_before
from engine.spec.keep import COUNT_FIELDS, KeepPolicy

PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
"""The calendar periods of the bucket rules, finest first."""

BucketKey = Callable[[datetime, int], int]
"""Maps (wall-clock time, position in the walk) to a bucket number."""


def _key_last(_local: datetime, position: int) -> int:
    return position


def _key_hourly(local: datetime, _position: int) -> int:
    return local.year * 1_000_000 + local.month * 10_000 + local.day * 100 + local.hour


def _key_daily(local: datetime, _position: int) -> int:
    return local.year * 10_000 + local.month * 100 + local.day


def _key_weekly(local: datetime, _position: int) -> int:
    year, week, _ = local.isocalendar()
    return year * 100 + week


def _key_monthly(local: datetime, _position: int) -> int:
    return local.year * 100 + local.month


def _key_yearly(local: datetime, _position: int) -> int:
    return local.year


_KEYS: dict[str, BucketKey] = {
    "last": _key_last,
    "hourly": _key_hourly,
    "daily": _key_daily,
    "weekly": _key_weekly,
    "monthly": _key_monthly,
    "yearly": _key_yearly,
}


def bucket_label(period: str, key: int) -> str:
    """Spell a bucket number for people: `2024-05-01T13`, `2024-05-01`, `2024-W18`,
    `2024-05`, `2024`; for `last` the position in the walk.

    >>> bucket_label("weekly", 202418)
    '2024-W18'
    """
    if period == "hourly":
        return f"{bucket_label('daily', key // 100)}T{key % 100:02d}"
    if period == "daily":
        return f"{key // 10_000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"
    if period == "weekly":
        return f"{key // 100:04d}-W{key % 100:02d}"
    if period == "monthly":
        return f"{key // 100:04d}-{key % 100:02d}"
    if period == "yearly":
        return f"{key:04d}"
    return f"#{key}"


def _cutoff_text(cutoff: datetime | None) -> str:
    return "none" if cutoff is None else cutoff.isoformat()


def has_tags(snapshot_tags: Sequence[str], tag_set: Sequence[str]) -> bool:
    """True when the snapshot carries every tag of `tag_set` (restic's rule: an empty
    tag `""` met before a missing tag matches a snapshot that has no tags at all)."""
    for tag in tag_set:
        if tag == "" and not snapshot_tags:
            return True
        if tag not in snapshot_tags:
            return False
    return True


class BucketRule:
    """One count rule (`daily: 7`) or window rule (`within_daily: 1m`) during one walk.

    A rule selects a snapshot whose bucket differs from the bucket it selected last, and
    the oldest snapshot of the series while it is still live. A count rule dies when its
    count reaches 0; a window rule dies at the first snapshot not after its cutoff.
    """

    __slots__ = (
        "period",
        "reason",
        "count",
        "initial",
        "window",
        "cutoff",
        "live",
        "_key",
        "_last_key",
        "_holder",
    )

    def __init__(
        self,
        period: str,
        *,
        count: int,
        window: RetentionDuration | None = None,
        cutoff: datetime | None = None,
    ) -> None:
        self.period = period
        self.count = count
        self.initial = count
        self.window = window
        self.cutoff = cutoff
        self._key = _KEYS[period]
        self._last_key = -1
        self._holder = ""
        if window is None:
            self.reason = f"{period} snapshot"
            self.live = count > 0 or count == -1
        else:
            self.reason = f"{period} within {window}"
            self.live = True

    def visit(
        self, snapshot_id: str, instant: datetime, local: datetime, position: int, oldest: bool
    ) -> str | None:
        """Offer one snapshot (walked newest first) to the rule.

        Takes: its id, its instant, its wall clock in the bucketing zone, its position,
        whether it is the oldest of the series. Returns: the keep reason when the rule
        selects it, else None. Updates the rule's state (last bucket and its holder,
        count, liveness).
        """
        if self.window is not None and self.cutoff is not None and not instant > self.cutoff:
            self.live = False
            return None
        key = self._key(local, position)
        if key != self._last_key:
            reason = self.reason
        elif oldest:
            reason = "oldest " + self.reason
        else:
            return None
        self._last_key = key
        self._holder = snapshot_id
        if self.count > 0:
            self.count -= 1
            if self.count == 0:
                self.live = False
        return reason

    def why_not(self) -> str:
        """Explain why the rule does not keep a snapshot it has just been offered."""
        if self.window is None:
            if not self.live:
                return f"beyond {self.period} {self.initial}"
            label = bucket_label(self.period, self._last_key)
            return f"{self.period} bucket {label} already kept by {self._holder}"
        if not self.live:
            return f"outside {self.reason} (cutoff {_cutoff_text(self.cutoff)})"
        label = bucket_label(self.period, self._last_key)
        return f"{self.reason}: bucket {label} already kept by {self._holder}"


class Rules:
    """Every rule of a policy, ready for one walk over a series."""

    __slots__ = (
        "tag_sets",
        "tag_labels",
        "within",
        "within_reason",
        "within_cutoff",
        "counts",
        "windows",
    )

    def __init__(self, policy: KeepPolicy, anchor: datetime | None) -> None:
        """Build the rules of `policy`, measuring durations back from `anchor` (already in
        the bucketing zone; None when no snapshot is before now, then every window
        covers every snapshot, as in restic)."""
        self.tag_labels = [f"[{', '.join(tags)}]" for tags in policy.tags]
        self.tag_sets = [
            (list(tags), f"has tags {label}")
            for tags, label in zip(policy.tags, self.tag_labels, strict=True)
        ]
        self.within = policy.duration("within")
        self.within_reason = f"within {self.within}"
        self.within_cutoff = _cutoff(anchor, self.within)
        self.counts = [BucketRule(name, count=getattr(policy, name)) for name in COUNT_FIELDS]
        self.windows = []
        for period in PERIODS:
            window = policy.duration(f"within_{period}")
            if window is not None:
                rule = BucketRule(period, count=0, window=window, cutoff=_cutoff(anchor, window))
                self.windows.append(rule)

    def bucket_rules(self) -> list[BucketRule]:
        """The configured bucket rules in restic's order: counts, then windows."""
        return [rule for rule in self.counts if rule.initial != 0] + self.windows

    def counters(self) -> dict[str, int]:
        """What each count rule has left now (-1 = unlimited, 0 = off or used up)."""
        return {rule.period: rule.count for rule in self.counts}

    def why_removed(self, verified_beyond: int) -> str:
        """Explain, rule by rule, why the snapshot just walked is not kept.

        Takes: the min_verified count when the snapshot is verified but beyond it, else 0.
        """
        parts = []
        if self.tag_sets:
            parts.append("tags match none of " + ", ".join(self.tag_labels))
        if self.within is not None:
            parts.append(
                f"older than {self.within_reason} (cutoff {_cutoff_text(self.within_cutoff)})"
            )
        parts.extend(rule.why_not() for rule in self.bucket_rules())
        if verified_beyond:
            parts.append(f"beyond min_verified {verified_beyond}")
        return "; ".join(parts) if parts else "no keep rule selects it"


def _cutoff(anchor: datetime | None, window: RetentionDuration | None) -> datetime | None:
    if anchor is None or window is None:
        return None
    return cutoff_before(anchor, window)
