"""`drydock recover --site SITE`: rebuild the environment at another site from the
snapshots kept there, as a plan shown first and applied on approval.

It reports the recovery point of every restored series (RPO: the age of the data) and
the measured recovery time (RTO: the wall time of the apply).
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from engine.clock import now as clock_now
from engine.commands.common import Format, err, fail, guarded, print_json, print_text
from engine.commands.common import workspace as open_env
from engine.commands.restore_snapshot import listings, observe_one
from engine.commands.reviewed import apply_reviewed
from engine.gitinfo import git_info
from engine.operations import new_id
from engine.planners.recover import (
    RecoverError,
    RecoverPlan,
    RecoveryScope,
    candidates,
    plan_recover,
    recovery_scope,
)
from engine.planners.recover_ec2 import image_policies
from engine.render.text import render_text
from engine.restoring import SnapshotInfo
from engine.spec.durations import format_duration
from engine.workspace import Workspace


def _choose(ws: Workspace, scope: RecoveryScope, snapshots: list[SnapshotInfo]) -> tuple[
        dict[str, SnapshotInfo], dict[str, dict[str, str]]]:
    """Per policy, the newest snapshot whose stored parts verify, and its file digests."""
    chosen: dict[str, SnapshotInfo] = {}
    digests: dict[str, dict[str, str]] = {}
    files = {p: sorted(ws.spec.env.servers[s.server].config)
             for s in scope.servers for p in s.policies}
    hosts = ws.spec.env.recover[scope.site].hosts
    for policy in [*scope.policies, *image_policies(ws.spec, hosts)]:  # AMIs: recover_ec2
        for snap in candidates(scope, policy, snapshots):
            facts = observe_one(ws, f"snapshot.{snap.repository}:{snap.series}/{snap.id}",
                                "snapshot", {"verify": True, "files": files.get(policy, [])}
                                ).facts
            if facts.get("verified"):
                chosen[policy] = snap
                digests[policy] = dict(facts.get("files", {}))
                break
            err.print(f"warning: snapshot {snap.label} is damaged ({facts.get('problem')}); "
                      "trying an older one")
    return chosen, digests


def _points_text(planned: RecoverPlan) -> str:
    lines = ["", "Recovery point (RPO) of the data restored:"]
    for p in planned.points:
        lines.append(f"  {p.target:<28} {p.policy}: snapshot {p.snapshot} in {p.repository}, "
                     f"taken {p.created.isoformat(timespec='seconds')} "
                     f"({format_duration_seconds(p.age_seconds)} old)")
    for m in planned.missing:
        lines.append(f"  ! {m}")
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
) -> None:
    """Rebuild the environment at SITE from the snapshots in SITE's repositories only.

    Servers of lost hosts are installed on the hosts the spec's recover mapping names, at
    the update level and patches their newest snapshot records, with its runtime data;
    lost databases are restored into their declared replacements. Prints the RPO per
    restored series and the measured RTO.

    Example: drydock recover --site dr --env specs/prod
    """
    ws = open_env(env)
    when = clock_now()
    try:
        scope = recovery_scope(ws.spec, site)
    except RecoverError as exc:
        fail(str(exc))
    found, unreadable = listings(ws, scope.repositories)
    for line in unreadable:
        err.print(f"warning: {line}")
    snapshots = [s for snaps in found.values() for s in snaps]
    chosen, digests = _choose(ws, scope, snapshots)
    products = {ws.spec.env.servers[s.server].product for s in scope.servers}
    levels = {p: int(observe_one(ws, f"pack.{p}", "pack").facts["update_level"])
              for p in sorted(products)}
    with ws.state.lock("recover"):
        doc = ws.state.read()
        try:
            planned = plan_recover(ws.spec, doc, scope, chosen, pack_levels=levels,
                                   digests=digests, plan_id=new_id(when), now=when,
                                   git=git_info(ws.spec.directory))
        except RecoverError as exc:
            fail(str(exc))
        text = fmt is not Format.json
        if text:
            print_text(render_text(planned.plan) + _points_text(planned))
        elif not auto_approve:
            print_json(_json(planned, site, None, {}, None, doc.serial))
        start = time.monotonic()
        result, stored = apply_reviewed(ws, planned.plan, doc, auto_approve=auto_approve,
                                        what="recover", show=False)
        seconds = time.monotonic() - start
    counts = {s: result.count(s) for s in ("ok", "failed", "skipped")}
    if text:
        print_text(f"Recover {'complete' if result.ok else 'FAILED'} at site {site}: "
                   f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} "
                   f"skipped; state serial {stored.serial}.\n"
                   f"Measured RTO: {seconds:.1f}s (wall time of the apply).\n"
                   + (_next_steps(scope) if result.ok else ""))
    else:
        print_json(_json(planned, site, result.ok, counts, seconds, stored.serial))
    if not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)


def _next_steps(scope: RecoveryScope) -> str:
    moves = [f"host {s.lost_host} → {s.new_host} for server {s.server}" for s in scope.servers]
    moves += [f"database {d.lost} → {d.replacement}" for d in scope.databases]
    return ("Next: change the spec to match (" + "; ".join(moves) + ") so plans manage the "
            "recovered estate, and point backups at a repository that survived.\n"
            if moves else "")


def _json(planned: RecoverPlan, site: str, ok: bool | None, counts: dict[str, int],
          seconds: float | None, serial: int) -> dict[str, Any]:
    """The JSON document: the plan, RPO per series, and once applied the result and RTO."""
    return {"site": site, "ok": ok, "plan": planned.plan.model_dump(mode="json"),
            "rpo": [p.model_dump(mode="json") for p in planned.points],
            "missing": list(planned.missing), "result": counts,
            "rto_seconds": None if seconds is None else round(seconds, 3),
            "state_serial": serial}
