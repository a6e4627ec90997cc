"""Plan a snapshot restore (pure): a snapshot into a database, onto a server or into a folder.

Every restore is an ordinary plan applied by the ordinary machinery (journal, lock,
state). What a restore overwrites is backed up first: a database into its policy's
repository (a `backup.create` tagged `pre-restore`), a server home as a change backup
on its host (and the compensation restores it when a later step fails). A folder is only
ever restored when it is empty or missing. Records change only the attributes the
restore changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.contracts.facts import SnapshotInfo
from engine.contracts.models import Action, AttrDiff, Change, GitInfo, Plan, RecordUpdate
from engine.contracts.pathfilter import PathFilter
from engine.desired.servers import server_home
from engine.planners.assemble import assemble_plan, server_group
from engine.planners.backups import snapshot_id_for, source_params
from engine.planners.base import Chain, PlanContext
from engine.planners.restore.common import RestoreError, RestoreTarget, SnapshotRef
from engine.planners.server import BACKUP_PATHS, change_backup_dir, restore_steps, service_params
from engine.spec.loader import LoadedSpec
from state.document import StateDocument

RUNTIME_PATHS = ("repository/conf", "repository/deployment/server",
                 "repository/resources/security", "repository/tenants")


def find_snapshot(ref: SnapshotRef, listings: Mapping[str, Sequence[SnapshotInfo]],
                  prefer: Sequence[str] = ()) -> SnapshotInfo:
    """The snapshot `ref` names among the repositories' listings.

    When several repositories hold it, the first of `prefer` (e.g. the policy's own
    repository) wins, then repository name order. Raises RestoreError naming where it
    looked.
    """
    found = [s for repo, snaps in listings.items() for s in snaps
             if s.id == ref.id and (ref.series is None or s.series == ref.series)
             and (ref.repository is None or repo == ref.repository)]
    if not found:
        where = ref.repository or ", ".join(sorted(listings)) or "no repository"
        raise RestoreError(f"snapshot {ref.id} is in none of the repositories searched ({where});"
                           " 'drydock backups list --rebuild' shows what exists")
    series = {s.series for s in found}
    if len(series) > 1:
        names = ", ".join(sorted(series))
        raise RestoreError(f"snapshot id {ref.id} exists in several series ({names}); name it "
                           "as SERIES/ID")
    rank = {name: i for i, name in enumerate(prefer)}
    return min(found, key=lambda s: (rank.get(s.repository, len(rank)), s.repository))


def _pre_restore_backup(spec: LoadedSpec, database: str, plan_id: str,
                        now: datetime) -> Action | None:
    for name, policy in spec.env.backups.items():
        if policy.source.database != database:
            continue
        ctx = PlanContext(spec=spec, plan_id=plan_id, now=now)
        sid = snapshot_id_for(now, plan_id, name)
        return Action(
            id=f"backup.{name}/pre-restore", address=f"backup.{name}", type="backup.create",
            summary=f"take snapshot {sid} of {name} into {policy.repository} before the "
                    "restore overwrites it",
            params={"series": name, "snapshot_id": sid, "repository": policy.repository,
                    "tags": [*policy.tags, "pre-restore"], "source": source_params(ctx, policy)})
    return None


def _rds_actions(spec: LoadedSpec, snap: SnapshotInfo, name: str, exists: bool) -> list[Action]:
    """RDS restores always create a new instance: never over one that exists."""
    db = spec.env.databases[name]
    if db.engine != "rds":
        raise RestoreError(f"snapshot {snap.label} is an RDS snapshot; database.{name} is "
                           f"{db.engine}: restore it into an rds database")
    if getattr(spec.env.repositories.get(snap.repository), "type", None) != "aws":
        raise RestoreError(f"snapshot {snap.label} is a dump; database.{name} is an RDS "
                           "instance, which restores from RDS snapshots only")
    if exists:
        raise RestoreError(f"database.{name} (RDS {db.identifier}) exists; RDS restores into a "
                           "new instance: declare a database with a new identifier and restore "
                           "into that")
    return [Action(
        id=f"database.{name}/restore", address=f"database.{name}", type="rds.restore",
        summary=f"restore snapshot {snap.id} of {snap.series} from {snap.repository} into the "
                f"new RDS instance {db.identifier}",
        params={"repository": snap.repository, "series": snap.series, "snapshot_id": snap.id,
                "identifier": db.identifier, "region": db.region, "scratch": False},
        risky=True)]


def _database_actions(spec: LoadedSpec, snap: SnapshotInfo, name: str, exists: bool,
                      plan_id: str, now: datetime) -> tuple[list[Action], list[str]]:
    db = spec.env.databases.get(name)
    if db is None:
        raise RestoreError(f"database.{name} is not in the spec; restore into a declared "
                           "database")
    if snap.kind != "database":
        raise RestoreError(f"snapshot {snap.label} holds {snap.kind} paths, not a database; "
                           "restore it to server.NAME or dir:/PATH")
    from_aws = getattr(spec.env.repositories.get(snap.repository), "type", None) == "aws"
    if db.engine == "rds" or from_aws:
        return _rds_actions(spec, snap, name, exists), []
    engine = "mysql" if db.engine == "mariadb" else db.engine
    if snap.engine and engine != ("mysql" if snap.engine == "mariadb" else snap.engine):
        raise RestoreError(f"snapshot {snap.label} is a {snap.engine} dump; database.{name} is "
                           f"{db.engine}")
    actions, warnings = [], []
    before = _pre_restore_backup(spec, name, plan_id, now) if exists else None
    if exists and before is None:
        raise RestoreError(f"database.{name} exists and no backup policy backs it up, so what "
                           "the restore overwrites could not be kept; declare a policy for it "
                           "or restore into another database")
    if before is not None:
        actions.append(before)
    actions.append(Action(
        id=f"database.{name}/restore", address=f"database.{name}", type="restore.database",
        summary=f"replace the content of database.{name} with snapshot {snap.id} of "
                f"{snap.series} from {snap.repository}",
        params={"repository": snap.repository, "series": snap.series, "snapshot_id": snap.id,
                "database": name, "replace": True},
        depends_on=(before.id,) if before else (), risky=True))
    return actions, warnings


def _server_actions(spec: LoadedSpec, snap: SnapshotInfo, name: str, exists: bool,
                    plan_id: str) -> list[Action]:
    server = spec.env.servers.get(name)
    if server is None:
        raise RestoreError(f"server.{name} is not in the spec; restore onto a declared server")
    if snap.kind == "database":
        raise RestoreError(f"snapshot {snap.label} is a database dump; restore it to "
                           "database.NAME")
    if not exists:
        raise RestoreError(f"server.{name} has no home at {server_home(spec, server)}; install "
                           "it first (drydock apply), then restore onto it")
    host_root = str(spec.path(spec.env.hosts[server.host].root))
    base = {"server": name, "host": server.host, "host_root": host_root,
            "home": str(server_home(spec, server))}
    service = service_params(server)
    backup_dir = change_backup_dir(base, plan_id)
    paths = sorted({*BACKUP_PATHS, *RUNTIME_PATHS})
    chain = Chain(f"server.{name}", transaction=True, group=server_group(spec, name))
    chain.add("backup", "server.backup", f"back up {name}'s paths the restore replaces",
              {**base, **service, "backup_dir": backup_dir, "paths": paths},
              compensation=restore_steps(base, service, backup_dir))
    if service:
        chain.add("stop", "server.stop", f"stop {name}", {**base, **service})
    chain.add("restore", "restore.paths",
              f"restore the paths of snapshot {snap.id} of {snap.series} from "
              f"{snap.repository} into {name}'s home", {
                  **base, "repository": snap.repository, "series": snap.series,
                  "snapshot_id": snap.id, "dest": base["home"], "only": None,
                  "require_empty": False}, risky=True)
    if service:
        chain.add("start", "server.start", f"start {name}", {**base, **service})
        if service.get("health"):
            chain.add("health", "server.health", f"health check {name}", {**base, **service})
    return chain.actions


def _server_record(doc: StateDocument, name: str, snap: SnapshotInfo,
                   digests: Mapping[str, str]) -> tuple[list[RecordUpdate], list[AttrDiff]]:
    record = doc.resources.get(f"server.{name}")
    if record is None:
        return [], []
    attrs = dict(record.attributes)
    after = dict(attrs)
    for key in ("update_level", "patches"):
        if key in snap.facts and snap.facts[key] is not None and key in attrs:
            after[key] = snap.facts[key]
    for key in attrs:
        if key.startswith("config:") and key.removeprefix("config:") in digests:
            after[key] = digests[key.removeprefix("config:")]
    diffs = [AttrDiff(name=k, before=attrs.get(k), after=after[k]) for k in sorted(after)
             if attrs.get(k) != after[k]]
    return [RecordUpdate(address=f"server.{name}", kind="server", name=name,
                         attributes=after)], diffs


def plan_snapshot_restore(spec: LoadedSpec, doc: StateDocument, snap: SnapshotInfo,
                          target: RestoreTarget, *, exists: bool,
                          digests: Mapping[str, str] | None = None, plan_id: str,
                          now: datetime, git: GitInfo | None = None,
                          paths: PathFilter | None = None) -> Plan:
    """The plan that restores `snap` into `target`.

    `exists` says whether the target holds something now (a database that exists, a
    server home, a non-empty folder); `digests` are the sha256 of the server's managed
    files as the snapshot holds them (so the record matches what is restored). Raises
    RestoreError when the snapshot does not fit the target or the target is not declared.
    `paths` (include/exclude patterns) limits a paths restore to what they select.
    """
    if paths is not None and paths.active and snap.kind == "database":
        raise RestoreError(f"snapshot {snap.label} is a database dump; --include/--exclude "
                           "go with snapshots of paths")
    records: list[RecordUpdate] = []
    diffs: list[AttrDiff] = []
    warnings: list[str] = []
    if target.kind == "database":
        actions, warnings = _database_actions(spec, snap, target.name, exists, plan_id, now)
    elif target.kind == "server":
        actions = _server_actions(spec, snap, target.name, exists, plan_id)
        records, diffs = _server_record(doc, target.name, snap, digests or {})
        if diffs:
            warnings.append(f"server.{target.name} will differ from the spec "
                            f"({', '.join(d.name for d in diffs)}); the next plan puts the "
                            "spec back unless the spec changes")
    else:
        if snap.kind == "database":
            raise RestoreError(f"snapshot {snap.label} is a database dump; restore it to "
                               "database.NAME")
        if exists:
            raise RestoreError(f"dir:{target.name} is not empty; restore into an empty or new "
                               "folder so nothing is overwritten")
        actions = [Action(
            id=f"dir:{target.name}/restore", address=target.address, type="restore.paths",
            summary=f"restore the paths of snapshot {snap.id} of {snap.series} from "
                    f"{snap.repository} into the empty folder {target.name}",
            params={"repository": snap.repository, "series": snap.series,
                    "snapshot_id": snap.id, "dest": target.name, "only": None,
                    "require_empty": True})]
    change = Change(address=target.address, kind=target.kind, action="update",
                    reason=f"restore snapshot {snap.label} (taken "
                           f"{snap.created.isoformat(timespec='seconds')})",
                    diffs=tuple(diffs))
    if paths is not None and paths.active:
        actions = [_filtered(a, paths) for a in actions]
    return assemble_plan(spec, doc, actions, plan_id=plan_id, now=now, git=git,
                         changes=[change], records=records, warnings=warnings)


def _filtered(action: Action, paths: PathFilter) -> Action:
    """A `restore.paths` action limited to the patterns (others unchanged)."""
    if action.type != "restore.paths":
        return action
    shown = " ".join([*(f"--include {p}" for p in paths.include),
                      *(f"--exclude {p}" for p in paths.exclude)])
    return action.model_copy(update={
        "summary": f"{action.summary}, only what {shown} selects",
        "params": {**action.params, "include": list(paths.include),
                   "exclude": list(paths.exclude)}})
