"""Plan restores (pure): a snapshot onto a database, a server or a folder, and a server
back to its last good applied version.

Every restore is an ordinary plan applied by the ordinary machinery (journal, lock,
state). What a restore overwrites is backed up first: a database into its policy's
repository (a `backup.create` tagged `pre-restore`), a server home as a change backup
on its host (and the compensation restores it when a later step fails). A folder is only
ever restored when it is empty or missing. Records change only the attributes the
restore changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from engine.desired.servers import server_home
from engine.graph import build_graph, with_graph_dependencies
from engine.model import (
    Action,
    AttrDiff,
    Change,
    DesiredResource,
    Frozen,
    GitInfo,
    ObservedResource,
    Plan,
    RecordUpdate,
    StateRef,
)
from engine.planners.backups import snapshot_id_for, source_params
from engine.planners.base import Chain, PlanContext
from engine.planners.server import BACKUP_PATHS, change_backup_dir, restore_steps, service_params
from engine.planning import summarise
from engine.spec.loader import LoadedSpec
from state.document import StateDocument

RUNTIME_PATHS = ("repository/conf", "repository/deployment/server",
                 "repository/resources/security", "repository/tenants")


class RestoreError(ValueError):
    """The restore cannot be planned; the message says what to do instead."""


class SnapshotInfo(Frozen):
    """A snapshot as a repository describes it (its manifest), for planning restores."""

    repository: str
    series: str
    id: str
    created: AwareDatetime
    kind: Literal["database", "server", "paths", "host"]
    address: str
    engine: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    size: int = 0
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """`repository:series/id`."""
        return f"{self.repository}:{self.series}/{self.id}"


class SnapshotRef(Frozen):
    """What the command line names: `ID`, `SERIES/ID` or `REPOSITORY:SERIES/ID`."""

    id: str
    series: str | None = None
    repository: str | None = None


class RestoreTarget(Frozen):
    """Where a snapshot goes: `database.X`, `server.X` or `dir:/some/path`."""

    kind: Literal["database", "server", "dir"]
    name: str

    @property
    def address(self) -> str:
        """The resource address restored (`dir:<path>` for a folder)."""
        return f"dir:{self.name}" if self.kind == "dir" else f"{self.kind}.{self.name}"


def parse_snapshot_ref(text: str) -> SnapshotRef:
    """Parse `ID`, `SERIES/ID` or `REPOSITORY:SERIES/ID`; RestoreError when malformed."""
    repo, _, rest = text.rpartition(":") if ":" in text.split("/")[0] else ("", "", text)
    series, _, sid = rest.rpartition("/")
    if not sid or (rest.count("/") > 1) or (":" in text and not series):
        raise RestoreError(f"snapshot {text!r}: name it as ID, SERIES/ID or REPOSITORY:SERIES/ID "
                           "(see 'drydock backups list')")
    return SnapshotRef(id=sid, series=series or None, repository=repo or None)


def parse_restore_target(text: str) -> RestoreTarget:
    """Parse `database.X`, `server.X` or `dir:/path`; RestoreError for anything else."""
    if text.startswith("dir:") and len(text) > 4:
        return RestoreTarget(kind="dir", name=text[4:])
    kind, _, name = text.partition(".")
    if kind in ("database", "server") and name:
        return RestoreTarget(kind=kind, name=name)  # type: ignore[arg-type]
    raise RestoreError(f"--to {text!r}: restore into database.NAME, server.NAME or dir:/PATH")


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


def plan_document(spec: LoadedSpec, doc: StateDocument, actions: Sequence[Action],
                  changes: Sequence[Change], records: Sequence[RecordUpdate],
                  warnings: Sequence[str], *, plan_id: str, now: datetime,
                  git: GitInfo | None) -> Plan:
    """Wrap restore actions into a Plan: graph checked, dependencies completed."""
    ordered = with_graph_dependencies(list(actions), build_graph(list(actions)))
    return Plan(
        id=plan_id, environment=spec.env.environment, created_at=now, spec_digest=spec.digest,
        git=git or GitInfo(), state=StateRef(lineage=doc.lineage, serial=doc.serial),
        changes=tuple(changes), actions=tuple(ordered), records=tuple(records),
        warnings=tuple(dict.fromkeys(warnings)), summary=summarise(changes, [], ordered))


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
    chain = Chain(f"server.{name}", transaction=True)
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
                          now: datetime, git: GitInfo | None = None) -> Plan:
    """The plan that restores `snap` into `target`.

    `exists` says whether the target holds something now (a database that exists, a
    server home, a non-empty folder); `digests` are the sha256 of the server's managed
    files as the snapshot holds them (so the record matches what is restored). Raises
    RestoreError when the snapshot does not fit the target or the target is not declared.
    """
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
    return plan_document(spec, doc, actions, [change], records, warnings, plan_id=plan_id,
                         now=now, git=git)


_SUCCESS = re.compile(r"^\d+ ok, 0 failed, 0 skipped$")


def succeeded(summary: str) -> bool:
    """True for the summary of an apply in which nothing failed or was skipped."""
    return bool(_SUCCESS.match(summary or ""))


def good_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """What `--last-good` brings back of a recorded server: level, patches, config digests."""
    return {k: v for k, v in attributes.items()
            if k in ("update_level", "patches") or k.startswith("config:")}


def differs(good: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    """True when the server as observed is not the recorded good version."""
    return any(observed.get(k) != v for k, v in good.items())


def patch_ids(spec: LoadedSpec, product: str, dirs: Sequence[str]) -> dict[str, str]:
    """Patch folder -> patch id (archive name), from any server of `product` declaring it;
    else the id the product's version gives (`WSO2-CARBON-PATCH-<version>-<NNNN>`)."""
    from engine.desired.names import patch_dir, split_product

    known = {patch_dir(p): p for s in spec.env.servers.values() if s.product == product
             for p in s.patches}
    version = spec.env.products[product].version or split_product(product)[1]
    return {d: known.get(d, f"WSO2-CARBON-PATCH-{version}-{d.removeprefix('patch')}")
            for d in dirs}


def last_good_spec(spec: LoadedSpec, name: str, good: Mapping[str, Any]) -> LoadedSpec:
    """The spec as if it declared server `name` at its good version (level, patches and
    the managed files recorded then), so the server planner can plan the way back."""
    import dataclasses

    from engine.spec.models import ConfigFile

    server = spec.env.servers[name]
    dirs = list(good.get("patches") or [])
    paths = [k.removeprefix("config:") for k in good if k.startswith("config:")]
    config = {p: ConfigFile(content="", mode=server.config[p].mode if p in server.config
                            else 0o644) for p in paths}
    changed = server.model_copy(update={
        "update_level": good.get("update_level", server.update_level),
        "patches": list(patch_ids(spec, server.product, dirs).values()), "config": config})
    env = spec.env.model_copy(update={"servers": {**spec.env.servers, name: changed}})
    return dataclasses.replace(spec, env=env)


def last_good_desired(spec: LoadedSpec, name: str, good: Mapping[str, Any],
                      texts: Mapping[str, str]) -> DesiredResource:
    """The desired server of `last_good_spec`, its managed files the found bytes."""
    server = spec.env.servers[name]
    attrs: dict[str, Any] = {"product": server.product, "home": str(server_home(spec, server)),
                             "patches": sorted(good.get("patches") or []), **good}
    return DesiredResource(address=f"server.{name}", kind="server", name=name,
                           attributes=attrs, files=dict(texts))


def plan_last_good(spec: LoadedSpec, doc: StateDocument, name: str, desired: DesiredResource,
                   observed: ObservedResource, *, serial: int, plan_id: str, now: datetime,
                   git: GitInfo | None = None) -> Plan:
    """The plan that brings server `name` back to `desired`, the version recorded at state
    `serial`, in the runbook's order (backup, stop, levels, patches, config, start,
    health; compensation restores the backup). `spec` is `last_good_spec`'s.

    Raises RestoreError when the server already is at that version.
    """
    from engine.diff import diff_resource
    from engine.planners.server import plan_server

    address = f"server.{name}"
    record = doc.resources[address]
    change = diff_resource(address, "server", desired, dict(record.attributes), observed)
    if change.action == "no-op":
        raise RestoreError(f"{address} already matches its version of state serial {serial}; "
                           "nothing to restore (pass --serial to choose an older one)")
    change = change.model_copy(update={
        "reason": f"back to its last good version, state serial {serial}: {change.reason}"})
    ctx = PlanContext(spec=spec, plan_id=plan_id, now=now,
                      recorded={a: dict(r.attributes) for a, r in doc.resources.items()},
                      recorded_data={a: dict(r.data) for a, r in doc.resources.items()},
                      desired={address: desired}, observed={address: observed})
    actions = plan_server(change, ctx)
    keep = good_attributes(desired.attributes)
    attrs = {k: v for k, v in record.attributes.items() if not k.startswith("config:")}
    records = [RecordUpdate(address=address, kind="server", name=name,
                            attributes={**attrs, **keep})]
    warnings = [f"the spec declares server.{name} differently; the next plan puts the spec "
                "back unless the spec changes"]
    return plan_document(spec, doc, actions, [change], records, warnings, plan_id=plan_id,
                         now=now, git=git)
