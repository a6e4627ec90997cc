"""What every planner receives, and a helper to chain actions of one resource (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.contracts.models import Action, DesiredResource, ObservedResource, Step
from engine.spec.loader import LoadedSpec


class PlanningError(ValueError):
    """A change that cannot be planned at all; the message names the resource."""


@dataclass(frozen=True)
class PlanContext:
    """Inputs shared by all planners of one plan: the spec, the plan id and the time."""

    spec: LoadedSpec
    plan_id: str
    now: datetime
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)
    recorded_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    desired: dict[str, DesiredResource] = field(default_factory=dict)
    observed: dict[str, ObservedResource] = field(default_factory=dict)
    interrupted: frozenset[str] = frozenset()
    """Ids of actions an earlier, crashed apply started and never finished (the journal)."""
    replace: frozenset[str] = frozenset()
    """Servers to rebuild although unchanged (`--replace`)."""
    held: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """Per (series, repository), snapshots this plan itself reads there (a site drill
    rehearses them) -> why: its prunes keep them whatever retention says."""


class Chain:
    """Builds a linear sequence of actions for one address; each depends on the previous."""

    def __init__(self, address: str, *, transaction: bool = False, group: str | None = None):
        self.address = address
        self.actions: list[Action] = []
        self._transaction = address if transaction else None
        self._group = group

    def add(
        self,
        step: str,
        type_: str,
        summary: str,
        params: dict[str, Any] | None = None,
        *,
        compensation: tuple[Step, ...] = (),
        risky: bool = False,
        after: tuple[str, ...] = (),
    ) -> Action:
        """Append an action that runs after the previous one (and after `after` ids)."""
        deps = tuple(a for a in ((self.actions[-1].id,) if self.actions else ()) + after)
        action = Action(
            id=f"{self.address}/{step}", address=self.address, type=type_, summary=summary,
            params=params or {}, depends_on=deps, transaction=self._transaction,
            compensation=compensation, risky=risky, group=self._group,
        )
        self.actions.append(action)
        return action
