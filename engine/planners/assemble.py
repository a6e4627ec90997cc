"""Assemble planned actions into a Plan: the one place a Plan is put together (pure).

Every plan — the ordinary one, a restore, a recovery, a catalog operation — goes through
`assemble_plan`, so each gets the same checked graph (dependencies, cross-resource
orderings, rollout groups serialised to their `max_unavailable`), the same completed
dependencies, the same warnings and the same summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from engine.contracts.models import (
    Action,
    Change,
    Drift,
    Freshness,
    GitInfo,
    Plan,
    PlanSummary,
    RecordUpdate,
    StateRef,
)
from engine.graph import build_graph, with_graph_dependencies
from engine.spec.loader import LoadedSpec
from state.document import StateDocument


class PlanError(ValueError):
    """The plan cannot be made (observation failed, the graph has a cycle, ...)."""


def summarise(changes: Sequence[Change], drift: Sequence[Drift],
              actions: Sequence[Action]) -> PlanSummary:
    """Counts for the plan's summary line and exit codes."""
    counts = Counter(c.action for c in changes)
    return PlanSummary(
        create=counts["create"], update=counts["update"], replace=counts["replace"],
        delete=counts["delete"], drift=len(drift), actions=len(actions),
        by_type=dict(sorted(Counter(a.type for a in actions).items())),
    )


def rollout_groups(spec: LoadedSpec) -> dict[str, int]:
    """Rollout group -> how many of its servers may change at once."""
    return {s.rollout.group: s.rollout.max_unavailable
            for s in spec.env.servers.values() if s.rollout}


def server_group(spec: LoadedSpec, server: str) -> str | None:
    """The rollout group of a declared server, or None."""
    declared = spec.env.servers.get(server)
    return declared.rollout.group if declared is not None and declared.rollout else None


def assemble_plan(
    spec: LoadedSpec,
    doc: StateDocument,
    actions: Sequence[Action],
    *,
    plan_id: str,
    now: datetime,
    git: GitInfo | None = None,
    changes: Sequence[Change] = (),
    drift: Sequence[Drift] = (),
    records: Sequence[RecordUpdate] = (),
    warnings: Sequence[str] = (),
    edges: Sequence[tuple[str, str]] = (),
    freshness: Sequence[Freshness] = (),
) -> Plan:
    """The Plan of `actions`: graph checked (rollout groups included), dependencies
    completed, each action's `problems` added to the warnings (once each).

    `changes` are the plan's changes without no-ops. Raises PlanError when the actions
    do not form an acyclic graph.
    """
    ordered: list[Action] = []
    if actions or edges:  # a plan with nothing to do needs no graph (nor networkx)
        try:
            graph = build_graph(list(actions), rollout_groups(spec), list(edges))
        except ValueError as exc:
            raise PlanError(str(exc)) from exc
        ordered = with_graph_dependencies(list(actions), graph)
    problems = [f"{a.id}: {p}" for a in ordered for p in a.params.get("problems") or []]
    return Plan(
        id=plan_id, environment=spec.env.environment, created_at=now,
        spec_digest=spec.digest, git=git or GitInfo(),
        state=StateRef(lineage=doc.lineage, serial=doc.serial),
        changes=tuple(changes), drift=tuple(drift), actions=tuple(ordered),
        records=tuple(records), warnings=tuple(dict.fromkeys([*warnings, *problems])),
        freshness=tuple(freshness), summary=summarise(changes, drift, ordered),
    )
