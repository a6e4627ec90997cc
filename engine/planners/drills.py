"""Schedule restore drills (pure): when due, which snapshot, into which scratch target.

A drill (`drill.<name>`) is due when it never ran, its last run failed, or `every` has
passed since its last run (runs live in the record's data). The plan names the exact
snapshot: the newest in the drill's repository (`from`, default the policy's own), or
with `pick: random` one chosen from the plan id among those inside `window` — snapshots
this same plan creates or copies there count, and the drill then waits for them. Each
drill is two actions: `drill.run` (restore into the scratch target, run the checks, time
the restore against the RTO, tear the scratch target down, record the run) and
`drill.verdict`, which fails when the run failed so the apply exits 1 after the run was
recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.contracts.drills import KEEP_RUNS, DrillRun, drill_runs
from engine.contracts.models import Action, DesiredResource
from engine.desired.data import database_attributes
from engine.desired.servers import server_home
from engine.planners.backups import series_catalog
from engine.planners.base import PlanContext
from engine.spec.data import AwsRepository, RdsDatabase
from engine.spec.durations import format_duration
from engine.spec.loader import LoadedSpec
from engine.spec.models import Drill

_LOCAL_HOSTS = {"localhost": "127.0.0.1", "::1": "127.0.0.1"}


class Candidate(BaseModel):
    """A snapshot a drill could restore, and the planned action that produces it (if any)."""

    model_config = ConfigDict(frozen=True)

    id: str
    created: datetime
    producer: str | None = None


def drill_repository(spec: LoadedSpec, drill: Drill) -> str:
    """The repository a drill restores from: `from`, or its policy's repository."""
    return drill.from_ or spec.env.backups[drill.backup].repository


def scratch_folder(spec: LoadedSpec, drill: Drill) -> PurePath:
    """A directory target's folder: under its host's root, else relative to the spec."""
    if drill.into.host is not None:
        return PurePath(spec.path(spec.env.hosts[drill.into.host].root)) / (
            drill.into.directory or ".")
    return PurePath(spec.path(drill.into.directory or "."))


def target_label(spec: LoadedSpec, drill: Drill) -> str:
    """A one-line description of the scratch target, without secrets."""
    if drill.into.directory is not None and drill.into.host is not None:
        return f"directory {scratch_folder(spec, drill)} on {drill.into.host}"
    if drill.into.directory is not None:
        return f"directory {spec.path(drill.into.directory)}"
    attrs = database_attributes(spec, drill.into.database)  # type: ignore[arg-type]
    if attrs["engine"] == "sqlite":
        return f"sqlite {attrs['path']}"
    if attrs["engine"] == "rds":
        return f"rds {attrs['identifier']} in {attrs['region']}"
    return f"{attrs['engine']} {attrs['host']}:{attrs['port']}/{attrs['dbname']}"


def desired_drills(spec: LoadedSpec) -> dict[str, DesiredResource]:
    """A desired resource per drill: what it restores, from where, into what, how often."""
    out = {}
    for name, drill in spec.env.drills.items():
        if drill.backup not in spec.env.backups:
            continue
        out[f"drill.{name}"] = DesiredResource(
            address=f"drill.{name}", kind="drill", name=name,
            attributes={"backup": drill.backup, "from": drill_repository(spec, drill),
                        "into": target_label(spec, drill),
                        "every_seconds": int(drill.every.total_seconds()),
                        "rto_seconds": int(drill.rto.total_seconds())})
    return out


def _identity(spec: LoadedSpec, db: Any) -> tuple[Any, ...]:
    attrs = database_attributes(spec, db)
    if attrs["engine"] == "sqlite":
        return ("sqlite", str(PurePath(str(attrs["path"]))))
    if attrs["engine"] == "rds":
        return ("rds", attrs["region"], attrs["identifier"])
    host = str(attrs.get("host") or "127.0.0.1")
    return (attrs["engine"], _LOCAL_HOSTS.get(host, host), attrs.get("port"), attrs.get("dbname"))


def _inside(path: PurePath, other: PurePath) -> bool:
    return path == other or other in path.parents or path in other.parents


def scratch_problems(spec: LoadedSpec, name: str, drill: Drill) -> list[str]:
    """Why the scratch target must not be used: it is a declared database, or a folder
    that holds (or lies in) a server home or a repository. [] when it is safe."""
    if drill.into.database is not None:
        mine = _identity(spec, drill.into.database)
        return [f"drill.{name}: the scratch database is database.{db_name} itself; a drill "
                "never touches a declared database — give it its own scratch target"
                for db_name, db in spec.env.databases.items() if _identity(spec, db) == mine]
    folder = scratch_folder(spec, drill)
    out = []
    for sname, server in spec.env.servers.items():
        if server.host in spec.env.hosts and _inside(folder, server_home(spec, server)):
            out.append(f"drill.{name}: the scratch directory {folder} overlaps server.{sname}'s "
                       "home; give the drill a folder of its own")
    for rname, repo in spec.env.repositories.items():
        path = getattr(repo, "path", None)
        if path is not None and _inside(folder, PurePath(spec.path(path))):
            out.append(f"drill.{name}: the scratch directory {folder} overlaps repository "
                       f"{rname}; give the drill a folder of its own")
    return out


def due_reason(drill: Drill, runs: Sequence[DrillRun], now: datetime) -> str | None:
    """Why the drill runs in this plan, or None when it is not due."""
    if not runs:
        return "never run"
    last = runs[-1]
    if not last.passed:
        return "its last run failed"
    age = now - last.started
    if age >= drill.every:
        return f"last run {format_duration(age)} ago, every {format_duration(drill.every)}"
    return None


def candidates(ctx: PlanContext, drill: Drill, planned: Sequence[Action]) -> list[Candidate]:
    """Snapshots of the drill's series in its repository, including those this plan
    creates or copies there, without those this plan prunes from it; oldest first."""
    repo = drill_repository(ctx.spec, drill)
    catalog = series_catalog(ctx, drill.backup)
    known = {e.id: e.created for entries in catalog.repos.values() for e in entries}
    found = {e.id: Candidate(id=e.id, created=e.created) for e in catalog.repos.get(repo, ())}
    pruned: set[str] = set()
    for action in planned:
        p = action.params
        if p.get("series") != drill.backup:
            continue
        if action.type == "backup.create" and p.get("repository") == repo:
            found[p["snapshot_id"]] = Candidate(id=p["snapshot_id"], created=ctx.now,
                                                producer=action.id)
        elif action.type == "backup.copy" and p.get("to") == repo:
            created = known.get(p["snapshot_id"], ctx.now)
            found[p["snapshot_id"]] = Candidate(id=p["snapshot_id"], created=created,
                                                producer=action.id)
        elif action.type == "backup.prune" and p.get("repository") == repo:
            pruned |= {d["id"] for d in p.get("deletes", [])}
    return sorted((c for c in found.values() if c.id not in pruned),
                  key=lambda c: (c.created, c.id))


def choose(name: str, drill: Drill, found: Sequence[Candidate], plan_id: str,
           now: datetime) -> Candidate | None:
    """The snapshot the drill restores: the newest, or a random one within `window`
    chosen deterministically from the plan id (the plan names it)."""
    if not found:
        return None
    if drill.pick == "newest":
        return found[-1]
    pool = [c for c in found if drill.window is None or now - c.created <= drill.window]
    if not pool:
        return None
    digest = hashlib.sha256(f"{plan_id}\0{name}".encode()).hexdigest()
    return pool[int(digest, 16) % len(pool)]


def report_path(spec: LoadedSpec, name: str, plan_id: str) -> str:
    """Where the run of a drill writes its report (kept as evidence of the drill)."""
    return str(spec.path(f".drydock/drills/{name}/{plan_id}.json"))


def _store_problems(spec: LoadedSpec, name: str, drill: Drill, repo: str) -> list[str]:
    """Why the repository and the scratch target do not fit: RDS snapshots restore only
    into a scratch RDS instance of their own region, and only they do."""
    declared = spec.env.repositories.get(repo)
    into = drill.into.database
    if not isinstance(declared, AwsRepository):
        return ([f"drill.{name}: repository {repo} holds files or dumps, which restore into "
                 "sqlite, postgres or mysql; restore into rds from a type: aws repository"]
                if isinstance(into, RdsDatabase) else [])
    if not isinstance(into, RdsDatabase):
        return [f"drill.{name}: repository {repo} holds RDS snapshots; restore them into a "
                "scratch RDS instance (into: {database: {engine: rds, identifier, region}})"]
    if into.region != declared.region:
        return [f"drill.{name}: repository {repo} is in {declared.region} but the scratch "
                f"instance is in {into.region}; RDS restores a snapshot only in its own "
                f"region — put the scratch instance in {declared.region}"]
    return []


def _run_action(ctx: PlanContext, name: str, drill: Drill, chosen: Candidate, why: str,
                runs: Sequence[DrillRun]) -> Action:
    spec = ctx.spec
    repo = drill_repository(spec, drill)
    policy = spec.env.backups[drill.backup]
    kind = "database" if policy.source.database is not None else "directory"
    label = target_label(spec, drill)
    target: dict[str, Any] = {"kind": "database" if drill.into.database else "directory",
                              "label": label}
    if drill.into.directory is not None:
        target["path"] = str(scratch_folder(spec, drill))
    if drill.into.host is not None:
        target["host"] = drill.into.host
    problems = scratch_problems(spec, name, drill)
    if (kind == "database") != (drill.into.database is not None):
        problems.append(f"drill.{name}: backup {drill.backup} holds a "
                        f"{'database' if kind == 'database' else 'set of paths'}, so the drill "
                        f"must restore into a {kind} (into: {{{kind}: ...}})")
    problems += _store_problems(spec, name, drill, repo)
    checks = [c.model_dump(mode="json", exclude_none=True) for c in drill.verify]
    count = len(checks)
    return Action(
        id=f"drill.{name}/run", address=f"drill.{name}", type="drill.run",
        summary=f"restore snapshot {chosen.id} of {drill.backup} from {repo} into scratch "
                f"{label}, run {count} check{'s' if count != 1 else ''}, RTO "
                f"{format_duration(drill.rto)} ({why})",
        params={"drill": name, "series": drill.backup, "snapshot_id": chosen.id,
                "snapshot_created": chosen.created.isoformat(), "repository": repo,
                "target": target, "checks": checks,
                "rto_seconds": drill.rto.total_seconds(),
                "verified_address": f"backup.{drill.backup}",
                "previous_runs": [r.model_dump(mode="json") for r in runs[-(KEEP_RUNS - 1):]],
                "report": report_path(spec, name, ctx.plan_id), "problems": problems,
                # an earlier apply died inside this drill: what is in the scratch is its own
                "clear_scratch": f"drill.{name}/run" in ctx.interrupted},
        depends_on=(chosen.producer,) if chosen.producer else (), risky=bool(problems))


def plan_drills(ctx: PlanContext, planned: Sequence[Action]) -> tuple[list[Action], list[str]]:
    """Actions for every due drill, and warnings.

    `planned` are the plan's backup actions (a drill may restore a snapshot they create
    or copy, and then depends on that action). Returns (actions, warnings): a due drill
    with no snapshot to restore yet is a warning, not an action.
    """
    actions: list[Action] = []
    warnings: list[str] = []
    for name, drill in ctx.spec.env.drills.items():
        if drill.backup not in ctx.spec.env.backups:
            continue
        runs = drill_runs(ctx.recorded_data.get(f"drill.{name}"))
        why = due_reason(drill, runs, ctx.now)
        if why is None:
            continue
        chosen = choose(name, drill, candidates(ctx, drill, planned), ctx.plan_id, ctx.now)
        if chosen is None:
            where = drill_repository(ctx.spec, drill)
            within = f" within {format_duration(drill.window)}" if drill.window else ""
            warnings.append(f"drill.{name} is due ({why}) but backup {drill.backup} has no "
                            f"snapshot in {where}{within} yet; it runs once one is there")
            continue
        run = _run_action(ctx, name, drill, chosen, why, runs)
        actions.append(run)
        actions.append(Action(
            id=f"drill.{name}/verdict", address=f"drill.{name}", type="drill.verdict",
            summary=f"fail the apply if drill {name} did not pass",
            params={"drill": name, "report": run.params["report"]}, depends_on=(run.id,)))
    return actions, warnings
