"""Run a command several times; the median wall time and the peak RSS of the runs.

Every figure of the table comes from here: a child process per run, its peak resident
set size from `wait4` (this child alone, not the sum of the bench's children), and the
median of `runs` runs. A child that prints one JSON object on its last stdout line may
report its own `seconds` (the operation without the interpreter's start).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    """The median seconds and the highest peak RSS over the runs of one command."""

    seconds: float
    rss_mb: float
    runs: int
    extra: dict
    cpu: float = 0.0  # median user+sys seconds of the child


class RunFailed(RuntimeError):
    """A measured command exited with an unexpected status."""


def measure(argv: Sequence[str], *, runs: int, cwd: Path | None = None,
            before: Callable[[], None] | None = None, ok: Sequence[int] = (0,),
            env: dict[str, str] | None = None) -> Measured:
    """`runs` runs of `argv` (each after `before()`); the median and the peak RSS."""
    times, rss, cpus, extra = [], [], [], {}
    for _ in range(runs):
        if before is not None:
            before()
        wall, mb, out, cpu = spawn_measured(argv, cwd=cwd, ok=ok, env=env)
        cpus.append(cpu)
        last = out.strip().splitlines()[-1] if out.strip() else ""
        if last.startswith("{"):
            extra = json.loads(last)
            wall = float(extra.get("seconds", wall))
        times.append(wall)
        rss.append(mb)
    return Measured(statistics.median(times), max(rss), runs, extra, statistics.median(cpus))


def spawn_measured(argv: Sequence[str], *, cwd: Path | None = None, ok: Sequence[int] = (0,),
                   env: dict[str, str] | None = None) -> tuple[float, float, str, float]:
    """Seconds, peak RSS (MB, from wait4: this child's own), stdout and CPU seconds."""
    out_r, out_w = os.pipe()
    start = time.perf_counter()
    pid = _spawn_in(argv, cwd or Path.cwd(), env, out_w, out_r)
    os.close(out_w)
    chunks = []
    with os.fdopen(out_r, "rb") as pipe:
        for chunk in iter(lambda: pipe.read(65536), b""):
            chunks.append(chunk)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    out = b"".join(chunks).decode(errors="replace")
    if code not in ok:
        raise RunFailed(f"{' '.join(str(a) for a in argv[:5])} ... exited {code}: "
                        + " | ".join(out.strip().splitlines()[-3:]))
    return wall, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def _spawn_in(argv: Sequence[str], cwd: Path, env: dict[str, str] | None, out_w: int,
              out_r: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: into cwd, stdout to the pipe, stderr away, then exec
        try:
            os.chdir(cwd)
            os.dup2(out_w, 1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(out_r)
            os.execve(argv[0], list(argv), {**os.environ, **(env or {})})
        finally:
            os._exit(127)
    return pid
