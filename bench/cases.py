"""The cases the table times inside one child process, and the physical floors.

`python -m bench.cases NAME ARG...` runs one and prints `{"seconds": ...}` (the work
itself, without the interpreter's start) on its last line; `bench/runner.py` takes the
peak RSS of the child from `wait4`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.estate import make_estate


def stat_floor(root: str, servers: str) -> float:
    """One `os.stat` of every managed file of the estate."""
    paths = [str(p) for p in make_estate(Path(root), int(servers)).managed_paths()]
    start = time.perf_counter()
    for p in paths:
        os.stat(p)
    return time.perf_counter() - start


def sha256_floor(root: str, servers: str) -> float:
    """sha256 of every managed file of the estate (read and hashed once each)."""
    paths = [str(p) for p in make_estate(Path(root), int(servers)).managed_paths()]
    start = time.perf_counter()
    for p in paths:
        with open(p, "rb") as f:
            hashlib.file_digest(f, "sha256")
    return time.perf_counter() - start


def write_floor(root: str, servers: str) -> float:
    """Writing the bytes a converge of the estate must write, into fresh files."""
    estate = make_estate(Path(root), int(servers))
    out = Path(root) / "write-floor"
    files = [(i, estate.managed(i)) for i in range(1)]
    blobs = list(files[0][1].values())
    start = time.perf_counter()
    out.mkdir(exist_ok=True)
    for i in range(int(servers)):
        for j, data in enumerate(blobs):
            with open(out / f"{i}-{j}", "wb") as f:
                f.write(data)
    took = time.perf_counter() - start
    for child in out.iterdir():
        child.unlink()
    out.rmdir()
    return took


def trivial_actions(root: str, count: str) -> float:
    """Apply a plan of `count` actions that do nothing: the walker, journal and recorder."""
    from bench.trivial import run_trivial

    return run_trivial(Path(root), int(count))


def retention(_root: str, count: str) -> float:
    """One pass of a full keep policy over `count` snapshots of one series."""
    from engine.retention import RetentionSnapshot, apply_policy
    from engine.spec.keep import KeepPolicy

    policy = KeepPolicy(last=10, hourly=48, daily=14, weekly=8, monthly=24, yearly=-1,
                        within="30d")
    start_at = datetime(2000, 1, 1, tzinfo=UTC)
    snaps = [RetentionSnapshot(id=f"s{i:07d}", time=start_at + timedelta(minutes=17 * i))
             for i in range(int(count))]
    now = snaps[-1].time + timedelta(hours=1)
    start = time.perf_counter()
    apply_policy(snaps, policy, now=now)
    return time.perf_counter() - start


def sort_floor(_root: str, count: str) -> float:
    """Sorting `count` timestamps: the one sort retention cannot avoid."""
    start_at = datetime(2000, 1, 1, tzinfo=UTC)
    times = [start_at + timedelta(minutes=17 * i) for i in range(int(count))][::-1]
    start = time.perf_counter()
    sorted(times)
    return time.perf_counter() - start


def graph_render(_root: str, servers: str) -> float:
    """Graph (rollout groups included), order and text rendering of servers × 8 actions."""
    from bench.trivial import graph_and_render

    return graph_and_render(int(servers))


CASES = {f.__name__: f for f in (stat_floor, sha256_floor, write_floor, trivial_actions,
                                   retention, sort_floor, graph_render)}


def main() -> None:
    name, *args = sys.argv[1:]
    print(json.dumps({"seconds": CASES[name](*args)}))


if __name__ == "__main__":
    main()
