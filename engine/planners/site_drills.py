"""Schedule site drills (pure): when due, the rehearsal of a site's recovery as one action.

A site drill (`drills.<name>: {site: dr, every: 30d, rto: 1h, into: {root: PATH}}`) is
due like any drill (never run, last run failed, `every` passed). Its rehearsal is the
recovery plan of the site made against the drill's scratch view of the spec
(`engine.spec.scratch_view`; planned by the caller, who reads the site's repositories):
the plan carries those steps inside one `drill.site` action — rebuild every server into
its host's scratch root, restore every database into its scratch twin, start and
health-check the servers, run the drill's `sql` checks on every restored database —
which the drill provider runs, timing the whole rehearsal against `rto` and tearing
everything down in a `finally`; `drill.verdict` then fails the apply when it failed.
Like every drill its runs are recorded (the last 20) and a failed last run heads every
plan and drift report until one passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.contracts.drills import KEEP_RUNS, drill_runs
from engine.contracts.models import Action, DesiredResource, Frozen
from engine.planners.base import PlanContext
from engine.planners.drills import due_reason, report_path
from engine.planners.recover import RecoveryPoint
from engine.spec.durations import format_duration
from engine.spec.loader import LoadedSpec
from engine.spec.scratch_view import scratch_root

REHEARSED = ("server.install", "server.update", "server.patch.add", "server.config",
             "restore.paths", "restore.database", "server.start", "server.health")
"""The recovery steps a rehearsal runs; a recovery needing others (launching an EC2
instance, restoring RDS) is not rehearsed: it would create real, billed resources."""


class Rehearsal(Frozen):
    """The recovery a due site drill rehearses: its steps (planned against the scratch
    view), the snapshots they restore, and why it cannot run (`problems`)."""

    drill: str
    steps: tuple[Action, ...] = ()
    points: tuple[RecoveryPoint, ...] = ()
    problems: tuple[str, ...] = ()


def rehearsed_snapshots(rehearsals: Mapping[str, Rehearsal]
                        ) -> dict[tuple[str, str], dict[str, str]]:
    """Per (series, repository), the snapshots the due rehearsals restore there -> why the
    plan keeps them: a prune in the same plan must not delete what its own drill reads."""
    held: dict[tuple[str, str], dict[str, str]] = {}
    for name, r in sorted(rehearsals.items()):
        for p in r.points:
            held.setdefault((p.policy, p.repository), {}).setdefault(
                p.snapshot, f"rehearsed by site drill {name} in this plan")
    return held


def site_drills(spec: LoadedSpec) -> dict[str, Any]:
    """The declared site drills by name."""
    return {n: d for n, d in spec.env.drills.items() if d.site is not None}


def due_site_drills(spec: LoadedSpec, recorded_data: Mapping[str, Mapping[str, Any]],
                    now: Any) -> dict[str, str]:
    """Name -> why it runs now, for every site drill that is due."""
    out = {}
    for name, drill in site_drills(spec).items():
        why = due_reason(drill, drill_runs(recorded_data.get(f"drill.{name}")), now)
        if why is not None:
            out[name] = why
    return out


def desired_site_drills(spec: LoadedSpec) -> dict[str, DesiredResource]:
    """A desired resource per site drill: which site, where, how often, the RTO."""
    return {f"drill.{name}": DesiredResource(
        address=f"drill.{name}", kind="drill", name=name,
        attributes={"site": drill.site, "into": f"root {drill.into.root}",
                    "every_seconds": int(drill.every.total_seconds()),
                    "rto_seconds": int(drill.rto.total_seconds())})
        for name, drill in site_drills(spec).items()}


def _roots(spec: LoadedSpec, name: str, steps: Sequence[Action]) -> list[dict[str, str]]:
    """The scratch root of every host the rehearsal builds on."""
    drill = spec.env.drills[name]
    hosts = sorted({str(s.params["host"]) for s in steps if s.params.get("host")})
    return [{"host": h, "path": scratch_root(str(spec.path(spec.env.hosts[h].root)),
                                             drill.into.root or ".", h),
             "parent": scratch_root(str(spec.path(spec.env.hosts[h].root)),
                                    drill.into.root or ".", "")}
            for h in hosts if h in spec.env.hosts]


def _problems(name: str, r: Rehearsal) -> list[str]:
    out = list(r.problems)
    odd = sorted({s.type for s in r.steps if s.type not in REHEARSED})
    if odd:
        out.append(f"drill.{name}: the recovery needs {', '.join(odd)}, which a site drill "
                   "does not rehearse (it would create real cloud resources)")
    return out


def _action(ctx: PlanContext, name: str, why: str, r: Rehearsal) -> Action:
    drill = ctx.spec.env.drills[name]
    runs = drill_runs(ctx.recorded_data.get(f"drill.{name}"))
    servers = sorted({s.address.split(".", 1)[1] for s in r.steps
                      if s.type == "server.install"})
    dbs = sorted({str(s.params["database"]) for s in r.steps if s.type == "restore.database"})
    checks = [c.model_dump(mode="json", exclude_none=True) for c in drill.verify]
    problems = _problems(name, r)
    return Action(
        id=f"drill.{name}/rehearse", address=f"drill.{name}", type="drill.site",
        summary=f"rehearse recover --site {drill.site} into scratch roots under "
                f"{drill.into.root}: rebuild and health-check {', '.join(servers) or 'no server'}"
                f", restore {', '.join(dbs) or 'no database'} into scratch twins and run "
                f"{len(checks)} check{'s' if len(checks) != 1 else ''} on each, RTO "
                f"{format_duration(drill.rto)}, then tear it all down ({why})",
        params={"drill": name, "site": drill.site,
                "steps": [s.model_dump(mode="json") for s in r.steps],
                "roots": _roots(ctx.spec, name, r.steps), "databases": dbs,
                "checks": checks, "rto_seconds": drill.rto.total_seconds(),
                "snapshots": [f"{p.policy}/{p.snapshot}" for p in r.points],
                "repositories": sorted({p.repository for p in r.points}),
                "previous_runs": [x.model_dump(mode="json") for x in runs[-(KEEP_RUNS - 1):]],
                "report": report_path(ctx.spec, name, ctx.plan_id), "problems": problems},
        risky=bool(problems))


def plan_site_drills(ctx: PlanContext, rehearsals: Mapping[str, Rehearsal]
                     ) -> tuple[list[Action], list[str]]:
    """A `drill.site` and a `drill.verdict` action per due site drill, and warnings.

    `rehearsals` are the caller's plans of the due drills' recoveries; a due drill with
    no snapshot at its site yet is a warning, not an action (it runs once there are).
    """
    actions: list[Action] = []
    warnings: list[str] = []
    for name, why in due_site_drills(ctx.spec, ctx.recorded_data, ctx.now).items():
        r = rehearsals.get(name)
        if r is None:
            continue
        if not r.points and not r.problems:
            warnings.append(f"drill.{name} is due ({why}) but site "
                            f"{ctx.spec.env.drills[name].site} holds no snapshot to recover "
                            "from yet; it runs once one is there")
            continue
        run = _action(ctx, name, why, r)
        actions.append(run)
        actions.append(Action(
            id=f"drill.{name}/verdict", address=f"drill.{name}", type="drill.verdict",
            summary=f"fail the apply if site drill {name} did not pass",
            params={"drill": name, "report": run.params["report"]}, depends_on=(run.id,)))
    return actions, warnings
