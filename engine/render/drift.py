"""The drift report: a stable model for `drift --format json`, its JSON Schema, its markdown.

The JSON output of `drydock drift --format json` is `DriftReport` serialised; its schema is
published as docs/drift-report.schema.json (`drydock drift --schema` prints it). `format`
is bumped only for incompatible changes; new optional fields may appear within a format.
Pure: models in, text out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from engine.contracts.models import Plan
from engine.render.markdown import fenced

DRIFT_FORMAT = 1
SCHEMA_ID = "urn:drydock:drift-report:1"
DrillState = Literal["ok", "failed", "overdue", "never-run"]


class ReportModel(BaseModel):
    """Base of report models: immutable, unknown fields refused (the schema is closed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DriftedAttribute(ReportModel):
    """One attribute that moved: recorded value and observed value."""

    name: str = Field(description="Attribute name, e.g. update_level or config:<path>.")
    recorded: Any = Field(default=None, description="What the last apply recorded.")
    observed: Any = Field(default=None, description="What the refresh found now.")


class DriftedResource(ReportModel):
    """A resource changed outside drydock."""

    address: str = Field(description="Resource address, kind.name (server.gw-1).")
    kind: str = Field(description="Resource kind: server, database, ...")
    reason: str = Field(description="One line saying what moved.")
    attributes: list[DriftedAttribute] = Field(default_factory=list)
    diffs: dict[str, str] = Field(
        default_factory=dict,
        description="Managed file path -> unified diff from recorded to current text.")


class OverdueBackup(ReportModel):
    """A backup policy whose newest snapshot is older than its RPO."""

    policy: str = Field(description="Backup policy name (backups.<policy> in the spec).")
    repository: str = Field(description="Repository holding the series.")
    age_seconds: float | None = Field(description="Age of the newest snapshot; null: none.")
    every_seconds: float = Field(description="The policy's RPO (`every`) in seconds.")


class BackupFreshness(ReportModel):
    """How fresh one policy's series is in one repository (primary or copy)."""

    policy: str = Field(description="Backup policy name.")
    repository: str = Field(description="Repository name.")
    newest_age_seconds: float | None = Field(
        default=None, description="Age of the newest snapshot there; null when it has none.")
    every_seconds: float = Field(description="The policy's RPO (`every`) in seconds.")
    overdue: bool = Field(description="True when the newest snapshot is older than `every`.")


class DrillStatus(ReportModel):
    """The standing of one restore drill."""

    drill: str = Field(description="Drill name (drills.<drill> in the spec).")
    status: DrillState = Field(
        description="ok, failed (last run failed), overdue (no run within `every`) or "
                    "never-run.")
    last_run: datetime | None = Field(default=None, description="When it last ran.")
    last_ok: bool | None = Field(default=None, description="Whether the last run passed.")
    message: str = Field(default="", description="Why it failed or is overdue.")


class DriftReport(ReportModel):
    """What `drift` found; `found` decides exit code 2."""

    format: int = Field(default=DRIFT_FORMAT, description="Report format version.")
    environment: str = Field(description="Environment name.")
    time: datetime = Field(description="When the drift run looked (DRYDOCK_NOW or now).")
    resources: list[DriftedResource] = Field(
        default_factory=list, description="Resources changed outside drydock.")
    overdue_backups: list[OverdueBackup] = Field(
        default_factory=list, description="Policies whose newest snapshot is too old.")
    backups: list[BackupFreshness] = Field(
        default_factory=list, description="Freshness of every policy in every repository.")
    drills: list[DrillStatus] = Field(
        default_factory=list, description="Drills; those not ok need attention.")
    pending_changes: int = Field(
        default=0, description="Actions a plan would take now (spec vs world), for context.")

    @computed_field(description="True when anything needs attention (exit code 2).")
    @property
    def found(self) -> bool:
        """True when a resource drifted, a backup is overdue or a drill is not ok."""
        return bool(self.resources or self.overdue_backups
                    or any(b.overdue for b in self.backups)
                    or any(d.status != "ok" for d in self.drills))


def drift_report_schema() -> dict[str, Any]:
    """The JSON Schema of `drift --format json` output (what docs/drift-report.schema.json
    holds)."""
    schema = DriftReport.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            **schema}


def drift_report(plan: Plan, now: datetime, *, overdue: list[OverdueBackup] | None = None,
                 backups: list[BackupFreshness] | None = None,
                 drills: list[DrillStatus] | None = None) -> DriftReport:
    """Build the report from a refreshed plan and the backup/drill findings.

    Backup freshness comes from the plan (`Plan.freshness`) unless given explicitly.
    """
    if backups is None:
        backups = [BackupFreshness(policy=f.policy, repository=f.repository,
                                   newest_age_seconds=f.newest_age_seconds,
                                   every_seconds=f.every_seconds, overdue=f.overdue)
                   for f in plan.freshness]
    if overdue is None:
        overdue = [OverdueBackup(policy=b.policy, repository=b.repository,
                                 age_seconds=b.newest_age_seconds,
                                 every_seconds=b.every_seconds) for b in backups if b.overdue]
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
        overdue_backups=overdue or [], backups=backups or [], drills=drills or [],
        pending_changes=plan.summary.actions,
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "no snapshot yet"
    hours = seconds / 3600
    return f"newest is {hours:.1f}h old" if hours < 48 else f"newest is {hours / 24:.1f}d old"


def finding_lines(report: DriftReport) -> list[str]:
    """One plain line per backup or drill finding (resources are rendered elsewhere)."""
    out = [f"backup {b.policy} in {b.repository} is overdue ({_age(b.age_seconds)}, "
           f"every {b.every_seconds / 3600:g}h)" for b in report.overdue_backups]
    listed = {(b.policy, b.repository) for b in report.overdue_backups}
    out += [f"backup {b.policy} in {b.repository} is overdue ({_age(b.newest_age_seconds)}, "
            f"every {b.every_seconds / 3600:g}h)"
            for b in report.backups if b.overdue and (b.policy, b.repository) not in listed]
    out += [f"drill {d.drill}: {d.status}" + (f" ({d.message})" if d.message else "")
            for d in report.drills if d.status != "ok"]
    return out


def render_findings_text(report: DriftReport) -> str:
    """Backup and drill findings as text for the terminal; empty when there are none."""
    lines = finding_lines(report)
    if not lines:
        return ""
    return "\nBackups and drills needing attention:\n" + "".join(f"  ! {x}\n" for x in lines)


def drift_marker(environment: str) -> str:
    """The hidden marker CI uses to find the open drift issue of `environment`."""
    return f"<!-- drydock-drift:{environment} -->"


def render_drift_markdown(report: DriftReport) -> str:
    """A markdown body for a nightly drift issue (starts with the hidden marker)."""
    out = [drift_marker(report.environment),
           f"### drydock drift: `{report.environment}` at {report.time.isoformat()}", ""]
    if not report.found:
        return "\n".join([*out, "No drift."]) + "\n"
    for r in report.resources:
        out.append(f"- **{r.address}**: {r.reason}")
        for path, diff in r.diffs.items():
            out += ["", f"<details><summary>{path}</summary>", "",
                    *fenced(diff.rstrip("\n").splitlines()), "", "</details>", ""]
    out += [f"- {line}" for line in finding_lines(report)]
    if report.pending_changes:
        out += ["", f"A plan would take {report.pending_changes} action(s) now; "
                    "run `drydock plan` to see them."]
    return "\n".join(out) + "\n"
