"""Decide which snapshots of a series a keep policy keeps, exactly as restic's forget does.

Pure: no I/O, no clock. One stable sort (newest first), then one walk that offers each
snapshot to every rule; drydock's pins, min_verified and never-empty guard ride along.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, tzinfo
from operator import attrgetter

from engine.retention_models import (
    KeptSnapshot,
    RemovedSnapshot,
    RetentionResult,
    RetentionSnapshot,
)
from engine.retention_rules import Rules, has_tags
from engine.spec.keep import KeepPolicy

__all__ = [
    "EMPTY_POLICY",
    "LAST_OF_SERIES",
    "MIN_VERIFIED",
    "PINNED",
    "KeptSnapshot",
    "RemovedSnapshot",
    "RetentionResult",
    "RetentionSnapshot",
    "apply_policy",
    "protect",
]

PINNED = "pinned"
MIN_VERIFIED = "min_verified"
LAST_OF_SERIES = "last snapshot of the series"
EMPTY_POLICY = "the keep policy is empty and an empty series was allowed"

_instant = attrgetter("time")
_position = attrgetter("position")


def apply_policy(
    snapshots: Sequence[RetentionSnapshot],
    policy: KeepPolicy,
    *,
    now: datetime,
    tz: tzinfo | None = None,
    allow_empty: bool = False,
) -> RetentionResult:
    """Split a series into kept and removed snapshots.

    Takes:
      snapshots: the series, in any order; ties in time keep this order (stable sort).
      policy: the keep rules.
      now: the current time (aware). Durations are measured back from the newest
        snapshot strictly before `now` (the anchor), never from `now` itself.
      tz: None buckets each snapshot by its own stored wall clock and offset (restic);
        a zone converts every time into that zone first (the policy's `timezone:`).
      allow_empty: with an all-zero policy, let every unpinned snapshot go. Otherwise a
        walk that keeps nothing keeps the newest snapshot ("last snapshot of the series").
    Returns: the RetentionResult, both lists newest first.
    Raises: ValueError when `now` is naive or two snapshots share an id.

    >>> from datetime import timezone
    >>> snap = RetentionSnapshot(id="a", time=datetime(2024, 5, 1, tzinfo=timezone.utc))
    >>> apply_policy([snap], KeepPolicy(daily=1),
    ...              now=datetime(2024, 6, 1, tzinfo=timezone.utc)).keep[0].reasons
    ['daily snapshot']
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("retention needs an aware 'now' (with a UTC offset)")
    order = sorted(snapshots, key=_instant, reverse=True)
    _check_unique(order)
    anchor = next((snap.time for snap in order if snap.time < now), None)
    if anchor is not None and tz is not None:
        anchor = anchor.astimezone(tz)
    rules = Rules(policy, anchor)
    with _collector_paused():
        keep, remove, newest_counters = _walk(order, rules, policy, tz)
        if not keep and remove and not (allow_empty and policy.is_empty):
            newest = remove.pop(0)
            keep.append(
                KeptSnapshot(
                    id=newest.id,
                    time=newest.time,
                    position=newest.position,
                    reasons=[LAST_OF_SERIES],
                    counters=newest_counters,
                )
            )
        return RetentionResult(keep=keep, remove=remove, anchor=anchor)


def _walk(
    order: list[RetentionSnapshot], rules: Rules, policy: KeepPolicy, tz: tzinfo | None
) -> tuple[list[KeptSnapshot], list[RemovedSnapshot], dict[str, int]]:
    """Offer every snapshot, newest first, to every rule; return kept, removed and the
    counters after the newest snapshot."""
    keep: list[KeptSnapshot] = []
    remove: list[RemovedSnapshot] = []
    oldest_position = len(order) - 1
    active = [rule for rule in rules.bucket_rules() if rule.live]
    tag_sets = rules.tag_sets
    within_reason = rules.within_reason if rules.within is not None else None
    within_cutoff = rules.within_cutoff
    verified_left = policy.min_verified
    policy_empty = policy.is_empty
    counters = rules.counters()
    newest_counters = counters
    why_plain: str | None = None
    why_verified: str | None = None

    for position, snap in enumerate(order):
        reasons: list[str] = []
        instant = snap.time
        for tag_set, text in tag_sets:
            if has_tags(snap.tags, tag_set):
                reasons.append(text)
        if within_reason is not None:
            if within_cutoff is None or instant > within_cutoff:
                reasons.append(within_reason)
            else:
                within_reason = None
        if active:
            local = instant if tz is None else instant.astimezone(tz)
            oldest = position == oldest_position
            died = counted = False
            for rule in active:
                reason = rule.visit(snap.id, instant, local, position, oldest)
                if reason is not None:
                    reasons.append(reason)
                    counted = counted or rule.count > 0 or not rule.live
                died = died or not rule.live
            if counted:
                counters = rules.counters()
            if died:
                active = [rule for rule in active if rule.live]
                why_plain = why_verified = None
        if position == 0:
            newest_counters = counters
        if snap.pinned:
            reasons.append(PINNED)
        if snap.verified and verified_left:
            verified_left -= 1
            reasons.append(MIN_VERIFIED)
        if reasons:
            keep.append(
                KeptSnapshot(
                    id=snap.id, time=instant, position=position, reasons=reasons, counters=counters
                )
            )
            why_plain = why_verified = None
            continue
        if snap.verified and policy.min_verified:
            if why_verified is None:
                why_verified = rules.why_removed(policy.min_verified)
            why = why_verified
        else:
            if why_plain is None:
                why_plain = EMPTY_POLICY if policy_empty else rules.why_removed(0)
            why = why_plain
        remove.append(RemovedSnapshot(id=snap.id, time=instant, position=position, reason=why))
    return keep, remove, newest_counters


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the walk.

    The walk allocates one small, acyclic result object per snapshot. With the collector
    running, each allocation burst re-scans the ever-growing heap, which triples the run
    time on a million-snapshot series; nothing in the walk creates reference cycles.
    The previous setting is restored on the way out, also on errors.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def protect(result: RetentionResult, must_keep: Mapping[str, str]) -> RetentionResult:
    """Move snapshots from `remove` to `keep` because something outside the policy
    still needs them (e.g. `{"s12": "not yet copied to dr-vault"}`).

    Takes: a result and a map of snapshot id to the reason it must stay. Ids that are
    already kept or not in the result are left alone.
    Returns: a new result; moved snapshots carry the given reason and empty counters,
    and both lists stay newest first.

    >>> from datetime import timezone
    >>> snap = RetentionSnapshot(id="a", time=datetime(2024, 5, 1, tzinfo=timezone.utc))
    >>> res = apply_policy([snap], KeepPolicy(), now=snap.time, allow_empty=True)
    >>> protect(res, {"a": "not yet copied"}).keep[0].reasons
    ['not yet copied']
    """
    moved = [
        KeptSnapshot(
            id=removed.id,
            time=removed.time,
            position=removed.position,
            reasons=[must_keep[removed.id]],
            counters={},
        )
        for removed in result.remove
        if removed.id in must_keep
    ]
    if not moved:
        return result
    return RetentionResult(
        keep=list(heapq.merge(result.keep, moved, key=_position)),
        remove=[removed for removed in result.remove if removed.id not in must_keep],
        anchor=result.anchor,
    )


def _check_unique(snapshots: Sequence[RetentionSnapshot]) -> None:
    ids = [snap.id for snap in snapshots]
    if len(set(ids)) == len(ids):
        return
    seen: set[str] = set()
    for snapshot_id in ids:
        if snapshot_id in seen:
            raise ValueError(f"snapshot id {snapshot_id!r} appears twice in the series")
        seen.add(snapshot_id)
