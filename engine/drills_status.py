"""Drill runs as recorded in the state, and which drills failed or are overdue (pure).

A drill's record (`drill.<name>`) keeps its last runs in `data["runs"]`, oldest first;
a site drill's runs are rehearsals of its site's recovery, recorded the same way.
A failed last run is shown at the top of every plan and drift report until a run passes;
a drill whose last run is older than its `every` is overdue; one that never ran is said
so. Time is passed in, never read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from engine.contracts.drills import DrillRun, drill_runs, format_duration_seconds
from engine.spec.loader import LoadedSpec
from state.document import StateDocument

if TYPE_CHECKING:
    from engine.render.drift import DrillStatus


class DrillFinding(BaseModel):
    """A drill that needs attention: its last run failed, it is overdue, or it never ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    drill: str
    status: Literal["failed", "overdue", "never-run"]
    last_run: DrillRun | None = None
    message: str

    @property
    def address(self) -> str:
        """`drill.<name>`."""
        return f"drill.{self.drill}"


def finding_for(name: str, every_seconds: float, runs: list[DrillRun],
                now: datetime, *, site: str | None = None) -> DrillFinding | None:
    """The finding of one drill given its runs, or None when all is well; `site` names
    the site a site drill rehearses the recovery of."""
    if not runs:
        return DrillFinding(drill=name, status="never-run",
                            message=f"drill.{name} has never run; apply to run it")
    last = runs[-1]
    when = last.started.isoformat(timespec="seconds")
    if not last.passed:
        what = (f"rehearsing recover --site {site} from {last.repository}" if site else
                f"restoring snapshot {last.snapshot} from {last.repository}")
        return DrillFinding(
            drill=name, status="failed", last_run=last,
            message=f"drill.{name} FAILED at {when} {what}: {last.reason()}")
    age = (now - last.started).total_seconds()
    if age > every_seconds:
        return DrillFinding(
            drill=name, status="overdue", last_run=last,
            message=f"drill.{name} is overdue: last passed {format_duration_seconds(age)} ago "
                    f"({when}), it should run every {format_duration_seconds(every_seconds)}")
    return None


def drill_findings(doc: StateDocument, spec: LoadedSpec, now: datetime) -> list[DrillFinding]:
    """Every declared drill whose last run failed, that is overdue, or never ran.

    Takes the state document, the loaded spec and the time; returns findings in drill
    name order, failed ones first.
    """
    out = []
    for name, drill in sorted(spec.env.drills.items()):
        record = doc.resources.get(f"drill.{name}")
        found = finding_for(name, drill.every.total_seconds(),
                            drill_runs(record.data if record else None), now, site=drill.site)
        if found is not None:
            out.append(found)
    order = {"failed": 0, "overdue": 1, "never-run": 2}
    return sorted(out, key=lambda f: (order[f.status], f.drill))


def failed_drill_warnings(findings: list[DrillFinding]) -> list[str]:
    """The plan's warning lines for failed drills (shown at the top of every plan)."""
    return [f.message for f in findings if f.status == "failed"]


__all__ = ["DrillFinding", "drill_findings", "failed_drill_warnings", "finding_for",
           "drill_statuses"]


def drill_statuses(doc: StateDocument, spec: LoadedSpec, now: datetime) -> list[DrillStatus]:
    """Every declared drill's standing for the drift report: ok, failed, overdue, never-run."""
    from engine.render.drift import DrillStatus

    findings = {f.drill: f for f in drill_findings(doc, spec, now)}
    out = []
    for name in spec.env.drills:
        runs = drill_runs((doc.resources.get(f"drill.{name}") or _NoRecord()).data)
        last = runs[-1] if runs else None
        found = findings.get(name)
        out.append(DrillStatus(
            drill=name, status=found.status if found else "ok",
            last_run=last.started if last else None, last_ok=last.passed if last else None,
            message=found.message if found else ""))
    return out


class _NoRecord:
    data: dict[str, Any] = {}
