"""The recoveries the due site drills rehearse, planned against their scratch views.

For each due site drill: the site's recovery planned exactly as `recover --site` plans
it (newest verified snapshots of the site's repositories, the pack's level), but against
the drill's scratch view of the spec, so every step targets scratch roots and scratch
databases. What would make the recovery fail — no recover mapping, a snapshot missing
for a server or database, a repository that cannot be read — is a problem the drill
records as its failure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from engine.contracts.queries import QueryFailed
from engine.operations.recovery import plan_recovery
from engine.planners.recover import RecoverError, recovery_scope
from engine.planners.site_drills import Rehearsal, due_site_drills
from engine.spec.scratch_view import scratch_view
from engine.workspace import Workspace
from state.document import StateDocument


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def rehearsals(ws: Workspace, doc: StateDocument, now: datetime) -> dict[str, Rehearsal]:
    """Per due site drill, its rehearsal (steps and snapshots, or problems)."""
    data = {a: dict(r.data) for a, r in doc.resources.items()}
    out: dict[str, Rehearsal] = {}
    for name in due_site_drills(ws.spec, data, now):
        site = ws.spec.env.drills[name].site or ""
        scope = None
        try:
            view = scratch_view(ws.spec, name)
            scope = recovery_scope(view, site)
            planned = plan_recovery(replace(ws, spec=view), scope, doc, now)
        except RecoverError as exc:
            if scope is not None and not scope.servers and "nothing to recover" in str(exc):
                out[name] = Rehearsal(drill=name)  # no database snapshot there yet: it waits
            else:
                out[name] = Rehearsal(drill=name, problems=(f"drill.{name}: {_first_line(exc)}",))
            continue
        except (QueryFailed, ValueError) as exc:
            out[name] = Rehearsal(drill=name, problems=(f"drill.{name}: {_first_line(exc)}",))
            continue
        recovery = planned.planned
        missing = tuple(f"drill.{name}: {m}" for m in recovery.missing)
        damaged = tuple(f"drill.{name}: {w}" for w in planned.warnings)
        out[name] = Rehearsal(drill=name, steps=recovery.plan.actions, points=recovery.points,
                              problems=missing + damaged if recovery.points else ())
    return out
