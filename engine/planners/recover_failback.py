"""Plan the failback's own steps (pure): a final backup at the site being left, and
stopping its servers once the rebuilt ones pass their health check.

A recovery whose mapping says `failback: true` (written by `recover --write-spec`) goes
back to a site while the site it leaves still runs and still takes writes. So before
anything is restored, every series the recovery restores gets one more snapshot where
its policy takes it (`backup.create`), copied into the first of the recovery's
repositories that the policy copies to (`backup.copy`, verified there): the rebuild
restores that snapshot, so nothing written at the site being left is lost. The server
steps (pack, levels, patches) still come from the newest snapshot that was there when
the plan was made (their replicated artifacts); the final one's runtime paths are
restored over them. Once every rebuilt server passed its health check (or started, when
it declares no check), the servers at the site being left are stopped (`server.stop`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import PurePath

from engine.contracts.facts import SnapshotInfo
from engine.contracts.models import Action, Frozen
from engine.planners.backups import snapshot_id_for, source_params
from engine.planners.base import PlanContext
from engine.planners.server import service_params
from engine.spec.loader import LoadedSpec


class FinalBackups(Frozen):
    """The final backups' actions, the snapshot each policy's restore reads instead, and
    per policy the action id the restore must wait for."""

    actions: tuple[Action, ...] = ()
    snapshots: dict[str, SnapshotInfo] = {}
    ready: dict[str, str] = {}


def _copy_target(spec: LoadedSpec, policy: str, repositories: Sequence[str]) -> str:
    pol = spec.env.backups[policy]
    return next((r for r in [pol.repository, *pol.copies] if r in repositories),
                repositories[0])


def plan_final_backups(spec: LoadedSpec, policies: Sequence[str], repositories: Sequence[str],
                       chosen: Mapping[str, SnapshotInfo], *, plan_id: str,
                       now: datetime) -> FinalBackups:
    """A `backup.create` (and a `backup.copy` into `repositories` when the policy takes it
    elsewhere) per policy in `policies`; the planned snapshot carries the facts of the
    newest one `chosen` (level, patches, artifacts) for the rebuild's steps."""
    ctx = PlanContext(spec=spec, plan_id=plan_id, now=now)
    actions: list[Action] = []
    snapshots: dict[str, SnapshotInfo] = {}
    ready: dict[str, str] = {}
    for name in policies:
        pol = spec.env.backups[name]
        sid = snapshot_id_for(now, plan_id, name)
        address = f"backup.{name}"
        source = source_params(ctx, pol)
        create = Action(
            id=f"{address}/final", address=address, type="backup.create",
            summary=f"take a final snapshot {sid} of {name} into {pol.repository} before the "
                    "failback, so nothing written since the last one is lost",
            params={"series": name, "snapshot_id": sid, "repository": pol.repository,
                    "tags": list(pol.tags), "source": source})
        actions.append(create)
        target = _copy_target(spec, name, repositories)
        ready[name] = create.id
        if target != pol.repository:
            copy = Action(
                id=f"{address}/final-copy-to-{target}", address=address, type="backup.copy",
                summary=f"copy the final snapshot {sid} of {name} from {pol.repository} to "
                        f"{target} and verify it there",
                params={"series": name, "snapshot_id": sid, "from": pol.repository,
                        "to": target}, depends_on=(create.id,))
            actions.append(copy)
            ready[name] = copy.id
        before = chosen.get(name)
        snapshots[name] = SnapshotInfo(
            id=sid, series=name, repository=target, created=now, tags=tuple(pol.tags),
            kind=str(source["kind"]), address=str(source["address"]),
            engine=before.engine if before is not None else None,
            facts=dict(before.facts) if before is not None else {})
    return FinalBackups(actions=tuple(actions), snapshots=snapshots, ready=ready)


def wait_for_final(actions: Sequence[Action], final: FinalBackups) -> list[Action]:
    """`actions` with every restore of a final snapshot waiting for it to be there."""
    out = []
    for action in actions:
        series = action.params.get("series")
        snap = final.snapshots.get(str(series)) if action.type.startswith("restore.") else None
        if snap is not None and action.params.get("snapshot_id") == snap.id:
            action = action.model_copy(update={
                "depends_on": (*action.depends_on, final.ready[str(series)])})
        out.append(action)
    return out


def plan_stops_left(spec: LoadedSpec, servers: Sequence[tuple[str, str]],
                    actions: Sequence[Action]) -> list[Action]:
    """A `server.stop` of each of `servers` (name, host it runs on at the site being left)
    that declares a service, after every rebuilt server's health check (or start)."""
    checks = tuple(a.id for a in actions if a.type == "server.health")
    started = {a.address for a in actions if a.type == "server.health"}
    after = checks + tuple(a.id for a in actions if a.type == "server.start"
                           and a.address not in started)
    out = []
    for name, host in servers:
        server = spec.env.servers[name]
        service = service_params(server)
        if not service:
            continue
        root = PurePath(spec.path(spec.env.hosts[host].root))
        out.append(Action(
            id=f"server.{name}/stop-on-{host}", address=f"server.{name}", type="server.stop",
            summary=f"stop {name} on {host}, which the failback leaves, once the rebuilt "
                    "servers passed their health checks",
            params={"server": name, "host": host, "host_root": str(root),
                    "home": str(root / server.home), **service, "if_running": True},
            depends_on=after))
    return out
