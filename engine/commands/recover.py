"""`drydock recover --site SITE`: rebuild the environment at another site from the
snapshots kept there, as a plan shown first and applied on approval.

It reports the recovery point of every restored series (RPO: the age of the data) and
the measured recovery time (RTO: the wall time of the apply). With `--write-spec` a
completed recovery rewrites the spec files (comments and layout kept) so they declare
the recovered placement and the failback (`recover.<lost site>`).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.commands.common import (
    Format,
    LockTimeout,
    err,
    fail,
    guarded,
    print_json,
    print_text,
)
from engine.commands.common import workspace as open_env
from engine.commands.reviewed import run_planned
from engine.commands.spec_write import write_spec_edits
from engine.contracts.models import Plan
from engine.operations.recovery import plan_recovery
from engine.planners.failover_spec import failover_changes
from engine.planners.recover import RecoverPlan, RecoveryScope, recovery_scope
from engine.render.text import render_text
from engine.spec.durations import format_duration
from engine.spec.loader import LoadedSpec
from engine.spec.rewrite import RewriteError
from state.document import StateDocument


def _points_text(planned: RecoverPlan) -> str:
    lines = ["", "Recovery point (RPO) of the data restored:"]
    for p in planned.points:
        lines.append(f"  {p.target:<28} {p.policy}: snapshot {p.snapshot} in {p.repository}, "
                     f"taken {p.created.isoformat(timespec='seconds')} "
                     f"({format_duration_seconds(p.age_seconds)} old)")
    for m in planned.missing:
        lines.append(f"  ! {m}")
    for source in planned.sources:
        rpo = ("no snapshot" if source.age_seconds is None else
               f"RPO {format_duration_seconds(source.age_seconds)}")
        lines += ["", f"server.{source.server} on {source.host} ({rpo}) is rebuilt from:"]
        lines += [f"  {'' if part.replicated else '! '}{part.part}: {part.source}"
                  for part in source.parts]
    if planned.newer:
        lines += ["", "The surviving state records something newer than these snapshots:"]
        lines += [f"  ! {line}" for line in planned.newer]
    return "\n".join(lines) + "\n"


def format_duration_seconds(seconds: float) -> str:
    """`1h2m`, `0s`."""
    from datetime import timedelta

    return format_duration(timedelta(seconds=max(0.0, seconds)))


@guarded
def recover(
    site: Annotated[str, typer.Option("--site", help="The site that takes over, e.g. dr.")],
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder (default: current).")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    write_spec: Annotated[bool, typer.Option(
        "--write-spec", help="Once the recovery completed, rewrite the spec files (comments "
        "kept) for the new placement and the failback mapping.")] = False,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Rebuild the environment at SITE from the snapshots in SITE's repositories only.

    Servers of lost hosts are installed on the hosts the spec's recover mapping names, at
    the update level and patches their newest snapshot records, from the packs, update
    packages and patch archives replicated beside it, with its runtime data; lost
    databases are restored into their declared replacements. Prints where each part of
    every server comes from, the RPO per restored series, anything a surviving state
    records that is newer, and the measured RTO.

    With --write-spec the spec then declares what runs: servers on their new hosts,
    backups of the replacement databases kept at the surviving site and copied to the
    lost one, and recover.<lost site> mapping the way back. Commit it as a pull request;
    once the lost site is back, `recover --site <lost site>` plans the failback with the
    data that changed meanwhile.

    Examples:
      drydock recover --site dr --env specs/prod
      drydock recover --site dr --env specs/prod --write-spec
      drydock recover --site primary --env specs/prod      (the failback)
    """
    ws = open_env(env, lock_timeout=lock_timeout)
    scope = recovery_scope(ws.spec, site)
    text = fmt is not Format.json
    clock = {"start": 0.0}

    def make(doc: StateDocument, when: datetime) -> Plan:
        planned = plan_recovery(ws, scope, doc, when)
        for line in planned.warnings:
            err.print(f"warning: {line}")
        made["planned"] = planned.planned
        return planned.planned.plan

    def review(_plan: Plan, doc: StateDocument) -> None:
        planned = made["planned"]
        if text:
            print_text(render_text(planned.plan) + _points_text(planned))
        elif not auto_approve:
            print_json(_json(planned, site, None, {}, None, doc.serial))
        clock["start"] = time.monotonic()

    made: dict[str, RecoverPlan] = {}
    _plan, result, stored = run_planned(ws, "recover", make, auto_approve=auto_approve,
                                        show=review)
    assert result is not None
    seconds = time.monotonic() - clock["start"]
    planned = made["planned"]
    counts = {s: result.count(s) for s in ("ok", "failed", "skipped")}
    if text:
        print_text(f"Recover {'complete' if result.ok else 'FAILED'} at site {site}: "
                   f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} "
                   f"skipped; state serial {stored.serial}.\n"
                   f"Measured RTO: {seconds:.1f}s (wall time of the apply).\n"
                   + (_next_steps(scope) if result.ok and not write_spec else ""))
    written = _write_spec(ws.spec, scope, text, stored) if write_spec and result.ok else None
    if not text:
        print_json({**_json(planned, site, result.ok, counts, seconds, stored.serial),
                    **({"spec": written} if written is not None else {})})
    if not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)


def _write_spec(spec: LoadedSpec, scope: RecoveryScope, text: bool,
                doc: StateDocument) -> dict[str, Any]:
    """Rewrite the spec for the recovered placement (launched EC2 hosts as `doc` records
    them); what changed, as JSON, and printed."""
    hosts = {a.split(".", 1)[1]: dict(r.data) for a, r in doc.resources.items()
             if a.startswith("host.")}
    changes = failover_changes(spec, scope, hosts)
    try:
        files = write_spec_edits(spec, changes.files)
    except (RewriteError, OSError) as exc:
        fail(f"the estate is recovered but the spec could not be rewritten: {exc}; "
             "change it by hand (" + "; ".join(changes.described) + ")")
    shown = [str(f) for f in files]
    if text:
        lines = [f"Spec rewritten ({', '.join(Path(f).name for f in shown) or 'no file'}; "
                 "comments kept):", *(f"  {d}" for d in changes.described),
                 *(f"  note: {n}" for n in changes.notes),
                 "Next: commit it as a pull request; its plan shows no changes to the "
                 "recovered servers."]
        print_text("\n".join(lines) + "\n")
    return {"files": shown, "changes": changes.described, "notes": changes.notes}


def _next_steps(scope: RecoveryScope) -> str:
    moves = [f"host {s.lost_host} → {s.new_host} for server {s.server}" for s in scope.servers]
    moves += [f"database {d.lost} → {d.replacement}" for d in scope.databases]
    return ("Next: change the spec to match (" + "; ".join(moves) + ") so plans manage the "
            "recovered estate, and point backups at a repository that survived "
            "(--write-spec does it).\n"
            if moves else "")


def _json(planned: RecoverPlan, site: str, ok: bool | None, counts: dict[str, int],
          seconds: float | None, serial: int) -> dict[str, Any]:
    """The JSON document: the plan, RPO per series, and once applied the result and RTO."""
    return {"site": site, "ok": ok, "plan": planned.plan.model_dump(mode="json"),
            "rpo": [p.model_dump(mode="json") for p in planned.points],
            "missing": list(planned.missing),
            "sources": [s.model_dump(mode="json") for s in planned.sources],
            "newer_in_state": list(planned.newer), "result": counts,
            "rto_seconds": None if seconds is None else round(seconds, 3),
            "state_serial": serial}
