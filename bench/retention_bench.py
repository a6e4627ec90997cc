"""Retention on large series: building the input, then one pass of the policy."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.retention import RetentionSnapshot, apply_policy
from engine.spec.keep import KeepPolicy

POLICY = KeepPolicy(last=10, hourly=48, daily=14, weekly=8, monthly=24, yearly=-1,
                    within="30d")


def run(snapshots: int) -> list[dict]:
    """Rows: step, snapshots, kept, seconds, microseconds per snapshot."""
    start = datetime(2000, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    snaps = [RetentionSnapshot(id=f"s{i:07d}", time=start + timedelta(minutes=17 * i))
             for i in range(snapshots)]
    build = time.perf_counter() - t0
    now = snaps[-1].time + timedelta(hours=1)
    rows = [{"step": "build input models", "snapshots": snapshots, "kept": 0, "seconds": build}]
    for label, tz in (("apply policy (stored offsets)", None),
                      ("apply policy (Asia/Colombo buckets)", ZoneInfo("Asia/Colombo"))):
        t0 = time.perf_counter()
        result = apply_policy(snaps, POLICY, now=now, tz=tz)
        rows.append({"step": label, "snapshots": snapshots, "kept": len(result.keep),
                     "seconds": time.perf_counter() - t0})
    for row in rows:
        row["µs/snapshot"] = 1e6 * row["seconds"] / max(snapshots, 1)
    return rows
