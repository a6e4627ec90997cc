"""Plan and apply benchmarks on synthetic estates: cold plan, apply, warm (no-op) plan."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.estate import make_estate
from engine.clock import now
from engine.operations.plan_apply import apply_plan, plan_workspace
from engine.wiring import default_registry
from engine.workspace import open_workspace


def _timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def run(servers: int, workdir: Path | None = None) -> list[dict]:
    """Rows: step, servers, actions, seconds, per-server milliseconds."""
    root = workdir or Path(tempfile.mkdtemp(prefix="drydock-bench-"))
    spec, build_s = _timed(lambda: make_estate(root, servers))
    shutil.rmtree(spec / "state", ignore_errors=True)
    ws = open_workspace(spec, default_registry())
    rows = [{"step": "build estate", "servers": servers, "actions": 0, "seconds": build_s}]
    plan, secs = _timed(lambda: plan_workspace(ws, now()))
    rows.append({"step": "plan (cold, nothing recorded)", "servers": servers,
                 "actions": len(plan.actions), "seconds": secs})
    with ws.state.lock("bench"):
        doc = ws.state.read()
        (result, _doc), secs = _timed(lambda: apply_plan(ws, plan, now(), doc=doc,
                                                          parallelism=10))
    rows.append({"step": "apply", "servers": servers, "actions": len(plan.actions),
                 "seconds": secs})
    warm, secs = _timed(lambda: plan_workspace(ws, now()))
    rows.append({"step": "plan (warm, no changes)", "servers": servers,
                 "actions": len(warm.actions), "seconds": secs})
    noref, secs = _timed(lambda: plan_workspace(ws, now(), do_refresh=False))
    rows.append({"step": "plan --no-refresh", "servers": servers,
                 "actions": len(noref.actions), "seconds": secs})
    for row in rows:
        row["ms/server"] = 1000 * row["seconds"] / max(servers, 1)
    if not result.ok:
        raise SystemExit("benchmark apply failed")
    return rows
