"""Prometheus text-format metrics of a drift report, for node_exporter's textfile collector.

Pure: a DriftReport in, exposition text out (`drift --metrics-file PATH` writes it
atomically). Every sample carries an `environment` label, so several environments can
share one collector directory (one file each, e.g. drydock_prod.prom).

Times are Unix timestamps, as node_exporter's textfile convention has it (an age frozen
in a file between runs would lie; `time() - x` in a query is always right).

Families (gauges): drydock_build_info{version,plan_format,state_format},
drydock_last_run_success{command}, drydock_last_run_timestamp_seconds{command} and
drydock_last_run_duration_seconds{command} (per command that ran: this drift run, the
last apply recorded in the state), drydock_drift_run_timestamp_seconds,
drydock_drift_found, drydock_drift_resources, drydock_drift_pending_actions,
drydock_backup_overdue, drydock_backup_newest_timestamp_seconds{policy,repository}
(absent while a series has no snapshot), drydock_drill_ok,
drydock_drill_last_success{drill} and drydock_drill_last_run_timestamp_seconds{drill}
(absent until the drill has run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.render.drift import DriftReport

Labels = tuple[tuple[str, str], ...]
Sample = tuple[Labels, float]


def escape_label(value: str) -> str:
    """A label value escaped for the exposition format (backslash, quote, newline)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """Integers without a fraction, other floats in Python's shortest round-trip form.

    >>> format_value(3.0), format_value(0.25), format_value(float("nan"))
    ('3', '0.25', 'NaN')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _family(name: str, help_: str, samples: Sequence[Sample]) -> list[str]:
    if not samples:
        return []
    out = [f"# HELP {name} {help_}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        text = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels)
        out.append(f"{name}{{{text}}} {format_value(float(value))}")
    return out


@dataclass(frozen=True)
class CommandRun:
    """One run of a command, for the last-run families."""

    command: str
    finished: datetime
    success: bool
    duration_seconds: float | None = None


def render_metrics(report: DriftReport, runs: Sequence[CommandRun] = ()) -> str:
    """The report as Prometheus text exposition format (version 0.0.4), newline-terminated.

    Takes a DriftReport and the runs to report (e.g. this drift run and the last apply);
    returns the file content. Families without samples are omitted.
    """
    from engine import __version__
    from engine.formats import PLAN_FORMAT
    from state.formats import STATE_FORMAT

    env: Labels = (("environment", report.environment),)
    build: Labels = (*env, ("version", __version__), ("plan_format", str(PLAN_FORMAT)),
                     ("state_format", str(STATE_FORMAT)))
    last = sorted(runs, key=lambda r: r.command)

    def run(r: CommandRun) -> Labels:
        return (*env, ("command", r.command))
    freshness = sorted(report.backups, key=lambda b: (b.policy, b.repository))
    overdue = {(b.policy, b.repository): b.overdue for b in freshness}
    for late in report.overdue_backups:
        overdue[(late.policy, late.repository)] = True
    drills = sorted(report.drills, key=lambda d: d.drill)

    def policy(p: str, r: str) -> Labels:
        return (*env, ("policy", p), ("repository", r))

    def drill(name: str) -> Labels:
        return (*env, ("drill", name))

    lines: list[str] = []
    lines += _family("drydock_build_info", "The drydock that wrote this file (always 1).",
                     [(build, 1.0)])
    lines += _family("drydock_last_run_success", "1 when the command's last run succeeded.",
                     [(run(r), 1.0 if r.success else 0.0) for r in last])
    lines += _family("drydock_last_run_timestamp_seconds",
                     "When the command's last run finished, as a Unix time.",
                     [(run(r), r.finished.timestamp()) for r in last])
    lines += _family("drydock_last_run_duration_seconds",
                     "How long the command's last run took.",
                     [(run(r), r.duration_seconds) for r in last
                      if r.duration_seconds is not None])
    lines += _family("drydock_drift_run_timestamp_seconds",
                     "When the drift run looked, as a Unix time.",
                     [(env, report.time.timestamp())])
    lines += _family("drydock_drift_found",
                     "1 when the drift run found anything needing attention.",
                     [(env, 1.0 if report.found else 0.0)])
    lines += _family("drydock_drift_resources", "Resources changed outside drydock.",
                     [(env, float(len(report.resources)))])
    lines += _family("drydock_drift_pending_actions",
                     "Actions a plan would take now.", [(env, float(report.pending_changes))])
    lines += _family("drydock_backup_overdue",
                     "1 when the newest snapshot of a policy in a repository is too old.",
                     [(policy(p, r), 1.0 if late else 0.0)
                      for (p, r), late in sorted(overdue.items())])
    lines += _family("drydock_backup_newest_timestamp_seconds",
                     "When the newest snapshot of a policy in a repository was taken, as a "
                     "Unix time.",
                     [(policy(b.policy, b.repository),
                       report.time.timestamp() - b.newest_age_seconds) for b in freshness
                      if b.newest_age_seconds is not None])
    lines += _family("drydock_drill_ok", "1 when the drill is neither failed nor overdue.",
                     [(drill(d.drill), 1.0 if d.status == "ok" else 0.0) for d in drills])
    lines += _family("drydock_drill_last_success", "1 when the drill's last run passed.",
                     [(drill(d.drill), 1.0 if d.last_ok else 0.0) for d in drills
                      if d.last_ok is not None])
    lines += _family("drydock_drill_last_run_timestamp_seconds",
                     "When the drill last ran, as a Unix time.",
                     [(drill(d.drill), d.last_run.timestamp()) for d in drills
                      if d.last_run is not None])
    return "\n".join(lines) + "\n"
