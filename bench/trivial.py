"""Synthetic plans for the walker and the graph: actions that do nothing, many of them.

`run_trivial` applies N no-op actions through the real apply path (walker, journal,
state recorder, state writes), so what it measures is drydock's own per-action overhead.
`graph_and_render` builds the checked graph of servers × 8 chained actions in rollout
groups, orders it and renders the plan as text.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from engine.contracts.models import Action, Plan, RecordUpdate, StateRef
from engine.contracts.provider import ActionContext, ActionOutcome, Provider, Registry

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = ("preflight", "stop", "backup", "update", "patch", "config", "start", "health")


class NoopProvider(Provider):
    """Runs `bench.noop` actions by doing nothing."""

    kinds = ("bench",)
    action_types = ("bench.noop",)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome(message="ok")


def _spec(root: Path) -> Path:
    spec = root / "trivial-spec"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "env.yaml").write_text("environment: trivial\n"
                                   "state: {backend: local, path: state/trivial.json}\n")
    return spec


def run_trivial(root: Path, count: int) -> float:
    """Seconds to apply `count` independent no-op actions, each recording a resource."""
    import shutil

    from engine.operations.plan_apply import apply_plan
    from engine.workspace import open_workspace

    spec = _spec(root)
    shutil.rmtree(spec / "state", ignore_errors=True)
    ws = open_workspace(spec, Registry([NoopProvider()]))
    with ws.state.lock("bench"):
        doc = ws.state.read()
        actions = tuple(Action(id=f"bench.a{i:06d}/noop", address=f"bench.a{i:06d}",
                               type="bench.noop", summary="nothing") for i in range(count))
        records = tuple(RecordUpdate(address=a.address, kind="bench", name=a.address[6:],
                                     attributes={"n": i}) for i, a in enumerate(actions))
        plan = Plan(id="bench", environment="trivial", created_at=NOW,
                    spec_digest=ws.spec.digest, state=StateRef(lineage=doc.lineage,
                                                               serial=doc.serial),
                    actions=actions, records=records)
        start = time.perf_counter()
        result, _doc = apply_plan(ws, plan, NOW, doc=doc, parallelism=10)
        took = time.perf_counter() - start
    if not result.ok:
        raise SystemExit("the trivial apply failed")
    return took


def graph_and_render(servers: int) -> float:
    """Seconds to build, order and render the graph of `servers` × 8 chained actions."""
    from engine.graph import build_graph, with_graph_dependencies
    from engine.render.text import render_text

    actions = []
    for s in range(servers):
        address = f"server.s{s:05d}"
        prev: tuple[str, ...] = ()
        for step in STEPS:
            aid = f"{address}/{step}"
            actions.append(Action(id=aid, address=address, type=f"server.{step}",
                                  summary=f"{step} s{s:05d}", depends_on=prev,
                                  transaction=address, group=f"g{s % 50}"))
            prev = (aid,)
    start = time.perf_counter()
    graph = build_graph(actions, {f"g{g}": 2 for g in range(50)})
    ordered = with_graph_dependencies(actions, graph)
    plan = Plan(id="bench", environment="bench", created_at=NOW, spec_digest="x",
                state=StateRef(lineage="x", serial=1), actions=tuple(ordered))
    render_text(plan)
    return time.perf_counter() - start
