"""The drift report: a stable model for `drift --format json`, and its markdown (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.model import Plan

DRIFT_FORMAT = 1


class DriftedAttribute(BaseModel):
    """One attribute that moved: recorded value and observed value."""

    model_config = ConfigDict(frozen=True)

    name: str
    recorded: Any = None
    observed: Any = None


class DriftedResource(BaseModel):
    """A resource changed outside drydock."""

    model_config = ConfigDict(frozen=True)

    address: str
    kind: str
    reason: str
    attributes: list[DriftedAttribute] = Field(default_factory=list)
    diffs: dict[str, str] = Field(default_factory=dict)


class OverdueBackup(BaseModel):
    """A backup policy whose newest snapshot is older than its RPO."""

    model_config = ConfigDict(frozen=True)

    policy: str
    repository: str
    age_seconds: float | None
    every_seconds: float


class DrillStatus(BaseModel):
    """A drill that failed last time or is overdue."""

    model_config = ConfigDict(frozen=True)

    drill: str
    status: str
    last_run: datetime | None = None
    message: str = ""


class DriftReport(BaseModel):
    """What `drift` found; `found` decides exit code 2."""

    model_config = ConfigDict(frozen=True)

    format: int = DRIFT_FORMAT
    environment: str
    time: datetime
    resources: list[DriftedResource] = Field(default_factory=list)
    overdue_backups: list[OverdueBackup] = Field(default_factory=list)
    drills: list[DrillStatus] = Field(default_factory=list)
    pending_changes: int = 0

    @property
    def found(self) -> bool:
        """True when anything needs attention."""
        return bool(self.resources or self.overdue_backups or self.drills)


def drift_report(plan: Plan, now: datetime, *, overdue: list[OverdueBackup] | None = None,
                 drills: list[DrillStatus] | None = None) -> DriftReport:
    """Build the report from a refreshed plan and the backup/drill findings."""
    return DriftReport(
        environment=plan.environment, time=now,
        resources=[
            DriftedResource(
                address=d.address, kind=d.kind, reason=d.reason,
                attributes=[DriftedAttribute(name=a.name, recorded=a.before, observed=a.after)
                            for a in d.diffs],
                diffs={f.path: f.unified for f in d.file_diffs},
            ) for d in plan.drift
        ],
        overdue_backups=overdue or [], drills=drills or [],
        pending_changes=plan.summary.actions,
    )


def render_drift_markdown(report: DriftReport) -> str:
    """A markdown body for a nightly drift issue."""
    out = [f"### drydock drift: `{report.environment}` at {report.time.isoformat()}", ""]
    if not report.found:
        return "\n".join([*out, "No drift."]) + "\n"
    for r in report.resources:
        out.append(f"- **{r.address}**: {r.reason}")
        for path, diff in r.diffs.items():
            out += ["", f"<details><summary>{path}</summary>", "", "```diff",
                    diff.rstrip("\n"), "```", "</details>"]
    for b in report.overdue_backups:
        out.append(f"- backup **{b.policy}** in {b.repository} is overdue")
    for d in report.drills:
        out.append(f"- drill **{d.drill}**: {d.status} {d.message}")
    return "\n".join(out) + "\n"
