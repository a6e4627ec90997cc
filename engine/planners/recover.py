"""Plan the rebuild of an environment at another site (pure), from that site's snapshots.

The spec's `recover.<site>` mapping says which host takes over which (`hosts`), which
declared database replaces which (`databases`) and where the data comes from
(`repositories`, default: every repository at the site). Only those repositories are
read — never the state, which may be lost with the site, nor the lost site's
repositories. For each server on a lost host: install its product's pack into the same
home under the new host's root, bring it to the update level and patches its newest
snapshot records, restore its runtime data (conf, deployments, keystores, tenants) from
that snapshot, then start and health-check it once the databases are back. Each lost
database is restored into its replacement from the newest snapshot that verifies; an
RDS database's snapshot (in the site's `type: aws` repository) is restored into a NEW
instance named by its `engine: rds` replacement, in that repository's region. A
failback (`failback: true`) restores final snapshots it takes first at the site it
leaves, whose servers it stops at the end (`engine.planners.recover_failback`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import AwareDatetime, Field

from engine.contracts.facts import PackFacts, SnapshotInfo
from engine.contracts.models import Action, Change, Frozen, GitInfo, Plan, RecordUpdate
from engine.desired import build_desired
from engine.desired.data import database_attributes
from engine.planners.assemble import assemble_plan
from engine.planners.recover_ec2 import Ec2RecoverError, Launch, after_launches, plan_launches
from engine.planners.recover_failback import (
    FinalBackups,
    plan_final_backups,
    plan_stops_left,
    wait_for_final,
)
from engine.planners.recover_server import ServerSource, plan_server_rebuild
from engine.planners.recover_state import newer_in_state
from engine.spec.data import RdsDatabase
from engine.spec.loader import LoadedSpec
from state.document import StateDocument


class RecoverError(ValueError):
    """Recovery cannot be planned; the message says what to declare or fix."""


class ServerRecovery(Frozen):
    """A server on a lost host, the host that takes it over, and its paths policies."""

    server: str
    lost_host: str
    new_host: str
    policies: tuple[str, ...] = ()


class DatabaseRecovery(Frozen):
    """A lost database, its declared replacement, and the policies that back it up."""

    lost: str
    replacement: str
    policies: tuple[str, ...] = ()


class RecoveryScope(Frozen):
    """What a recovery at `site` rebuilds and which repositories it may read."""

    site: str
    repositories: tuple[str, ...]
    servers: tuple[ServerRecovery, ...] = ()
    databases: tuple[DatabaseRecovery, ...] = ()

    @property
    def policies(self) -> list[str]:
        """Every policy whose snapshots the recovery may restore, in plan order."""
        return [p for item in (*self.databases, *self.servers) for p in item.policies]


class RecoveryPoint(Frozen):
    """The RPO of one restored series: which snapshot, taken when, how old."""

    policy: str
    target: str
    snapshot: str
    repository: str
    created: AwareDatetime
    age_seconds: float


class RecoverPlan(Frozen):
    """The recovery plan and the recovery point of every series it restores."""

    plan: Plan
    points: tuple[RecoveryPoint, ...] = ()
    missing: tuple[str, ...] = Field(default=())
    sources: tuple[ServerSource, ...] = ()
    """Per rebuilt server: the snapshot (and RPO) and where each of its parts comes from."""
    newer: tuple[str, ...] = ()
    """What a surviving state records that is newer than the site's snapshots."""


def recovery_scope(spec: LoadedSpec, site: str) -> RecoveryScope:
    """Read the `recover.<site>` mapping. Raises RecoverError when there is none or it
    names no repository at all."""
    mapping = spec.env.recover.get(site)
    if mapping is None:
        declared = ", ".join(sorted(spec.env.recover)) or "none"
        raise RecoverError(f"the spec has no recover mapping for site {site!r} (declared: "
                           f"{declared}); add recover.{site} with hosts, databases and "
                           "repositories")
    repos = tuple(mapping.repositories if mapping.repositories is not None else sorted(
        n for n, r in spec.env.repositories.items() if r.site == site))
    if not repos:
        raise RecoverError(f"recover.{site}: no repository at site {site!r} to recover from; "
                           "declare one or list them under recover.{site}.repositories")
    servers = tuple(
        ServerRecovery(server=name, lost_host=s.host, new_host=mapping.hosts[s.host],
                       policies=tuple(p for p, pol in spec.env.backups.items()
                                      if pol.source.server == name))
        for name, s in spec.env.servers.items() if s.host in mapping.hosts)
    databases = tuple(
        DatabaseRecovery(lost=lost, replacement=new,
                         policies=tuple(p for p, pol in spec.env.backups.items()
                                        if pol.source.database == lost))
        for lost, new in mapping.databases.items())
    return RecoveryScope(site=site, repositories=repos, servers=servers, databases=databases)


def candidates(scope: RecoveryScope, policy: str,
               snapshots: Sequence[SnapshotInfo]) -> list[SnapshotInfo]:
    """The snapshots of `policy` in the scope's repositories, newest first (one per id,
    the first repository of the scope holding it)."""
    rank = {r: i for i, r in enumerate(scope.repositories)}
    best: dict[str, SnapshotInfo] = {}
    for snap in snapshots:
        if snap.series != policy or snap.repository not in rank:
            continue
        held = best.get(snap.id)
        if held is None or rank[snap.repository] < rank[held.repository]:
            best[snap.id] = snap
    return sorted(best.values(), key=lambda s: (s.created, s.id), reverse=True)


def _point(policy: str, target: str, snap: SnapshotInfo, now: datetime) -> RecoveryPoint:
    return RecoveryPoint(policy=policy, target=target, snapshot=snap.id,
                         repository=snap.repository, created=snap.created,
                         age_seconds=(now - snap.created).total_seconds())


def _chosen(policies: Sequence[str], chosen: Mapping[str, SnapshotInfo]) -> tuple[
        str, SnapshotInfo] | None:
    return next(((p, chosen[p]) for p in policies if p in chosen), None)


def _database_action(spec: LoadedSpec, item: DatabaseRecovery, policy: str,
                     snap: SnapshotInfo) -> Action:
    """`restore.database` from a dump, or `rds.restore` of an RDS snapshot into the
    replacement's NEW instance. Raises RecoverError when snapshot and replacement differ
    in kind (an RDS snapshot only restores into RDS, a dump never does)."""
    address = f"database.{item.replacement}"
    target = spec.env.databases.get(item.replacement)
    if target is None:
        raise RecoverError(f"recover: database {item.replacement!r} (replacing {item.lost}) "
                           "is not declared; declare it under databases")
    summary = (f"restore database {item.lost} into {item.replacement} from snapshot "
               f"{snap.id} of {policy} in {snap.repository}")
    if (snap.engine == "rds") != isinstance(target, RdsDatabase):
        raise RecoverError(
            f"recover: snapshot {snap.label} of database {item.lost} is "
            f"{'an RDS snapshot' if snap.engine == 'rds' else 'a dump'} but "
            f"database.{item.replacement} is {target.engine}; map {item.lost} to a "
            f"{'rds' if snap.engine == 'rds' else 'sqlite, postgres or mysql'} replacement")
    if isinstance(target, RdsDatabase):
        return Action(
            id=f"{address}/recover", address=address, type="rds.restore",
            summary=f"{summary} as new RDS instance {target.identifier} in {target.region}",
            params={"repository": snap.repository, "series": policy, "snapshot_id": snap.id,
                    "identifier": target.identifier, "region": target.region,
                    "scratch": False}, risky=True)
    return Action(
        id=f"{address}/recover", address=address, type="restore.database", summary=summary,
        params={"repository": snap.repository, "series": policy, "snapshot_id": snap.id,
                "database": item.replacement, "replace": True}, risky=True)


def _database(spec: LoadedSpec, item: DatabaseRecovery, chosen: Mapping[str, SnapshotInfo],
              now: datetime) -> tuple[list[Action], Change | None, RecordUpdate | None,
                                      RecoveryPoint | None]:
    found = _chosen(item.policies, chosen)
    if found is None:
        return [], None, None, None
    policy, snap = found
    address = f"database.{item.replacement}"
    action = _database_action(spec, item, policy, snap)
    change = Change(address=address, kind="database", action="update",
                    reason=f"takes over from database.{item.lost}: data of "
                           f"{snap.created.isoformat(timespec='seconds')} ({snap.id})")
    attrs = database_attributes(spec, spec.env.databases[item.replacement])
    record = RecordUpdate(address=address, kind="database", name=item.replacement,
                          attributes=attrs)
    return [action], change, record, _point(policy, address, snap, now)


def _launches(spec: LoadedSpec, scope: RecoveryScope,
              chosen: Mapping[str, SnapshotInfo]) -> list[Launch]:
    try:
        return plan_launches(spec, spec.env.recover[scope.site].hosts, chosen)
    except Ec2RecoverError as exc:
        raise RecoverError(str(exc)) from None


def plan_recover(spec: LoadedSpec, doc: StateDocument, scope: RecoveryScope,
                 chosen: Mapping[str, SnapshotInfo], *, pack_levels: Mapping[str, int],
                 digests: Mapping[str, Mapping[str, str]], plan_id: str, now: datetime,
                 git: GitInfo | None = None,
                 packs: Mapping[str, PackFacts] | None = None) -> RecoverPlan:
    """The recovery plan from the snapshots `chosen` per policy (by the caller, newest
    that verifies); `pack_levels` is the update level each product's pack installs;
    `packs` per product its kernel and update packages by level (found by descriptor);
    `digests` per policy the sha256 of the managed files its snapshot holds.

    `doc` names the state version the plan applies to; what it records is only compared
    with the snapshots, to warn when it knows of something newer (`newer_in_state`).
    """
    actions: list[Action] = []
    changes: list[Change] = []
    records: list[RecordUpdate] = []
    points: list[RecoveryPoint] = []
    missing: list[str] = []
    failback = spec.env.recover[scope.site].failback
    final = plan_final_backups(spec, scope.policies, scope.repositories, chosen,
                               plan_id=plan_id, now=now) if failback else FinalBackups()
    chosen = {**chosen, **final.snapshots}
    for item in scope.databases:
        db_actions, change, record, point = _database(spec, item, chosen, now)
        if change is None:
            missing.append(f"database.{item.lost}: no snapshot of "
                           f"{', '.join(item.policies) or 'any policy'} in "
                           f"{', '.join(scope.repositories)}; database.{item.replacement} "
                           "stays as it is")
            continue
        actions += db_actions
        changes.append(change)
        records.append(record)  # type: ignore[arg-type]
        points.append(point)  # type: ignore[arg-type]
    after = tuple(a.id for a in actions)
    launches = _launches(spec, scope, chosen)  # EC2 hosts: see engine.planners.recover_ec2
    for launch in launches:
        actions.append(launch.action)
        changes.append(launch.change)
        records.append(launch.record)
        if launch.snapshot is not None and launch.policy is not None:
            points.append(_point(launch.policy, launch.action.address, launch.snapshot, now))
    desired = build_desired(spec) if any(_chosen(s.policies, chosen) is None
                                         for s in scope.servers) else {}
    sources: list[ServerSource] = []
    for item in scope.servers:
        found = _chosen(item.policies, chosen)
        snap = found[1] if found else None
        files = desired[f"server.{item.server}"].files if snap is None else {}
        product = spec.env.servers[item.server].product
        rebuild = plan_server_rebuild(
            spec, item.server, item.new_host, snap, desired_files=files,
            pack_level=pack_levels.get(product, -1), after=after, now=now,
            pack=(packs or {}).get(product))
        actions += rebuild.actions
        attrs = dict(rebuild.attributes)
        sources.append(rebuild.source)
        missing += rebuild.warnings
        address = f"server.{item.server}"
        if snap is None:
            missing.append(f"{address}: no snapshot of its paths in "
                           f"{', '.join(scope.repositories)}; level, patches and config come "
                           "from the spec, runtime data (deployments, keystores, tenants) is "
                           "not recovered")
        else:
            points.append(_point(snap.series, address, snap, now))
            attrs.update({f"config:{p}": d for p, d in (digests.get(snap.series) or {}).items()
                          if p in spec.env.servers[item.server].config})
        level = attrs.get("update_level")
        changes.append(Change(
            address=address, kind="server", action="create",
            reason=f"rebuild on {item.new_host} (was {item.lost_host}) at update level "
                   f"{level}, patches {', '.join(attrs['patches']) or 'none'}"
                   + (f", runtime data of {snap.created.isoformat(timespec='seconds')}"
                      if snap else "")))
        records.append(RecordUpdate(address=address, kind="server", name=item.server,
                                    attributes=attrs))
    actions = after_launches(actions, launches,
                             {f"server.{s.server}": s.new_host for s in scope.servers})
    if failback:
        actions = [*final.actions, *wait_for_final(actions, final), *plan_stops_left(
            spec, [(s.server, s.lost_host) for s in scope.servers], actions)]
    if not actions:
        raise RecoverError(f"nothing to recover at site {scope.site}: no server on a mapped "
                           "host and no database with a snapshot there")
    newer = [] if failback else newer_in_state(
        doc, site=scope.site, repositories=scope.repositories,
        servers=[(s.server, s.policies) for s in scope.servers], policies=scope.policies,
        chosen=chosen, digests=digests)
    plan = assemble_plan(spec, doc, actions, plan_id=plan_id, now=now, git=git,
                         changes=changes, records=records, warnings=[*newer, *missing])
    return RecoverPlan(plan=plan, points=tuple(points), missing=tuple(missing),
                       sources=tuple(sources), newer=tuple(newer))
