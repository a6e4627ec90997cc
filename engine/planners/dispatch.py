"""Route a change to the planner of its resource kind (pure)."""

from __future__ import annotations

from engine.contracts.models import Action, Change
from engine.planners.base import PlanContext
from engine.planners.database import plan_database
from engine.planners.server import plan_server
from engine.planners.server_rebuild import plan_rebuild


def plan_change(change: Change, ctx: PlanContext) -> list[Action]:
    """The actions for one change; an empty list for no-ops and unknown kinds."""
    if change.action == "no-op":
        return []
    if change.kind == "server" and change.action == "replace" and change.address in ctx.replace:
        return plan_rebuild(change, ctx)
    if change.kind == "server":
        return plan_server(change, ctx)
    if change.kind == "database":
        return plan_database(change, ctx)
    return []
