"""The values retention works on: snapshots going in, kept and removed snapshots coming out."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, SkipValidation


class RetentionSnapshot(BaseModel):
    """One snapshot of a series as retention sees it.

    `time` must carry a UTC offset; with no timezone given, its wall clock in that offset
    decides the snapshot's hourly/daily/... bucket (as in restic).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    time: AwareDatetime
    tags: tuple[str, ...] = ()
    verified: bool = False
    pinned: bool = False


class KeptSnapshot(BaseModel):
    """A snapshot the policy keeps, with every reason that keeps it.

    `reasons` uses restic's strings in restic's order (`daily snapshot`, `within 1m`,
    `oldest yearly snapshot`, `has tags [a, b]`), then drydock's (`pinned`,
    `min_verified`, `last snapshot of the series`, or a protect() reason).
    `counters` is what each count rule had left after this snapshot (-1 = unlimited);
    it is empty for snapshots kept by protect(). Treat both as read-only: retention
    fills them itself and does not copy them (series of a million snapshots).
    `position` is the snapshot's 0-based place in the newest-first order of the series.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    time: datetime
    position: int
    reasons: SkipValidation[list[str]]
    counters: SkipValidation[dict[str, int]]


class RemovedSnapshot(BaseModel):
    """A snapshot no rule keeps; `reason` names each rule and why it let the snapshot go."""

    model_config = ConfigDict(frozen=True)

    id: str
    time: datetime
    position: int
    reason: str


class RetentionResult(BaseModel):
    """The outcome of a policy on one series: both lists newest first.

    `anchor` is the newest snapshot time strictly before "now", which the `within*`
    rules measure back from (None when every snapshot is in the future).
    """

    model_config = ConfigDict(frozen=True)

    keep: list[KeptSnapshot]
    remove: list[RemovedSnapshot]
    anchor: datetime | None = None

    @property
    def kept_ids(self) -> list[str]:
        """The ids of the kept snapshots, newest first."""
        return [kept.id for kept in self.keep]

    @property
    def removed_ids(self) -> list[str]:
        """The ids of the removed snapshots, newest first."""
        return [removed.id for removed in self.remove]
