"""`plan_restore(request)`: the plan of any restore, made under the caller's state lock.

A restore request names a snapshot (`ID`, `SERIES/ID`, `REPOSITORY:SERIES/ID`), a
server's change backup (`SERVER@ID`, `SERVER@latest`) or a server's last good version.
What the planners need about the world comes from the registry's query ports and a
refresh of the one target; the plan is an ordinary plan, applied by `apply_plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.contracts.facts import SnapshotInfo
from engine.contracts.models import DesiredResource, Frozen, ObservedResource, Plan
from engine.contracts.pathfilter import PathFilter
from engine.desired import build_desired
from engine.gitinfo import git_info
from engine.operations.ids import new_id
from engine.planners.restore.change_backup import plan_patch_restore
from engine.planners.restore.common import (
    ONLY,
    RestoreError,
    RestoreTarget,
    parse_restore_target,
    parse_snapshot_ref,
    parse_source,
    parse_target,
)
from engine.planners.restore.last_good import (
    differs,
    good_attributes,
    last_good_desired,
    last_good_spec,
    plan_last_good,
    succeeded,
)
from engine.planners.restore.snapshot import find_snapshot, plan_snapshot_restore
from engine.refresh import refresh
from engine.spec.loader import LoadedSpec
from engine.workspace import Workspace
from state.document import StateDocument
from state.errors import StateError


class RestoreRequest(Frozen):
    """What `drydock restore` was asked: exactly one of `source` (+ `to`) or `last_good`."""

    source: str | None = None
    to: str | None = None
    last_good: str | None = None
    only: str | None = None
    from_repository: str | None = None
    serial: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedRestore:
    """The restore's plan and the lines to tell the operator before it is shown."""

    plan: Plan
    notes: tuple[str, ...] = ()


def check_request(request: RestoreRequest, spec: LoadedSpec) -> None:
    """Refuse a malformed request before anything is read. Raises RestoreError."""
    if (request.include or request.exclude) and (
            request.last_good is not None or "@" in (request.source or "")):
        raise RestoreError("--include/--exclude go with a snapshot of paths (SNAPSHOT --to "
                           "server.NAME or dir:/PATH)")
    if request.last_good is not None:
        if request.source is not None or request.to is not None:
            raise RestoreError("--last-good takes no SOURCE or --to; it restores the server it "
                               "names")
        kind, _, name = request.last_good.partition(".")
        if kind != "server" or not name:
            raise RestoreError(f"--last-good {request.last_good!r}: name a server, e.g. "
                               "server.gw-1")
        if name not in spec.env.servers:
            raise RestoreError(f"server.{name} is not in the spec; restore a declared server")
        return
    if request.source is None or request.to is None:
        raise RestoreError("name what to restore and where: restore SOURCE --to ADDR, or "
                           "restore --last-good server.NAME (see 'drydock restore --help')")
    if "@" in request.source:
        ref, _target = parse_source(request.source), parse_target(request.to)
        if ref.kind != "change-backup":
            raise RestoreError(f"{request.source!r}: restoring a backup repository snapshot "
                               "onto a server is not supported yet; name a change backup as "
                               "<server>@<id> or <server>@latest")
        only = request.only or "patches"
        if only not in ONLY:
            raise RestoreError(f"--only {only!r}: a change backup can restore {', '.join(ONLY)}")
        return
    if request.only is not None:
        raise RestoreError("--only goes with a change backup (SERVER@ID); a snapshot restores "
                           "whole")
    parse_snapshot_ref(request.source)
    parse_restore_target(request.to)
    if request.from_repository and request.from_repository not in spec.env.repositories:
        raise RestoreError(f"--from {request.from_repository!r}: no such repository in the spec")


def plan_restore(ws: Workspace, request: RestoreRequest, doc: StateDocument,
                 now: datetime) -> PlannedRestore:
    """The plan of `request` against `doc` (read under the caller's lock).

    Raises RestoreError (the restore cannot be planned) or QueryFailed (the world could
    not be read), each one line.
    """
    check_request(request, ws.spec)
    if request.last_good is not None:
        return _last_good(ws, request, doc, now)
    assert request.source is not None and request.to is not None
    if "@" in request.source:
        return PlannedRestore(_change_backup(ws, request.source, request.to, doc, now))
    return PlannedRestore(_snapshot(ws, request, doc, now))


def _refreshed(ws: Workspace, spec: LoadedSpec, doc: StateDocument, address: str,
               desired: dict[str, DesiredResource] | None = None) -> ObservedResource | None:
    """The one target refreshed; None when it is not declared. Raises RestoreError on an
    observation error."""
    wanted = desired if desired is not None else {
        a: d for a, d in build_desired(spec).items() if a == address}
    seen = refresh(ws.registry, spec, wanted,
                   {a: r for a, r in doc.resources.items() if a == address})
    if address not in seen:
        return None
    if seen[address].error:
        raise RestoreError(seen[address].error or "")
    return seen[address]


def _change_backup(ws: Workspace, source: str, to: str, doc: StateDocument,
                   now: datetime) -> Plan:
    ref, target = parse_source(source), parse_target(to)
    found = ws.registry.change_backup(ws.spec, ref.server, ref.backup_id)
    address = f"server.{target}"
    observed = _refreshed(ws, ws.spec, doc, address)
    if observed is None:
        raise RestoreError(f"{address} is not in the spec; restore onto a declared server")
    return plan_patch_restore(ws.spec, doc, target, found, observed, plan_id=new_id(now),
                              now=now, git=git_info(ws.spec.directory))


def listings(ws: Workspace, names: Sequence[str]) -> tuple[dict[str, list[SnapshotInfo]],
                                                           list[str]]:
    """Snapshots per repository, and one line per repository that could not be read."""
    from engine.contracts.queries import QueryFailed

    found: dict[str, list[SnapshotInfo]] = {}
    unreadable = []
    for name in names:
        try:
            found[name] = list(ws.registry.list_repository(ws.spec, name).snapshots)
        except QueryFailed as exc:
            unreadable.append(str(exc))
    return found, unreadable


def _snapshot(ws: Workspace, request: RestoreRequest, doc: StateDocument,
              now: datetime) -> Plan:
    assert request.source is not None and request.to is not None
    ref, target = parse_snapshot_ref(request.source), parse_restore_target(request.to)
    if target.kind == "dir":
        target = RestoreTarget(kind="dir", name=str(Path(target.name).resolve()))
    source = request.from_repository
    found, unreadable = listings(ws, [source] if source else sorted(ws.spec.env.repositories))
    policy = ws.spec.env.backups.get(ref.series or "")
    prefer = [policy.repository, *policy.copies] if policy else []
    try:
        snap = find_snapshot(ref, found, prefer)
    except RestoreError as exc:
        raise RestoreError("; ".join([str(exc), *unreadable])) from None
    exists, digests = _target_state(ws, doc, snap, target)
    return plan_snapshot_restore(ws.spec, doc, snap, target, exists=exists, digests=digests,
                                 plan_id=new_id(now), now=now, git=git_info(ws.spec.directory),
                                 paths=PathFilter(include=request.include,
                                                  exclude=request.exclude))


def _target_state(ws: Workspace, doc: StateDocument, snap: SnapshotInfo,
                  target: RestoreTarget) -> tuple[bool, dict[str, str]]:
    """Whether the target holds something now, and the snapshot's managed-file digests."""
    if target.kind == "dir":
        path = Path(target.name)
        return path.exists() and (not path.is_dir() or any(path.iterdir())), {}
    seen = _refreshed(ws, ws.spec, doc, target.address)
    if seen is None:
        raise RestoreError(f"{target.address} is not in the spec; restore into a declared "
                           f"{target.kind}")
    digests: dict[str, str] = {}
    if target.kind == "server" and snap.kind != "database":
        files = sorted(ws.spec.env.servers[target.name].config)
        digests = dict(ws.registry.inspect_snapshot(ws.spec, snap, files=files).files)
    return seen.exists, digests


def _good_version(ws: Workspace, address: str, observed: dict[str, Any],
                  serial: int | None) -> tuple[int, dict[str, Any]]:
    for entry in ws.state.history():
        if serial is not None and entry.serial != serial:
            continue
        if not entry.valid or entry.applied is None:
            continue
        if serial is None and not succeeded(entry.applied.summary):
            continue
        try:
            record = ws.state.read_version(entry.serial).resources.get(address)
        except StateError as exc:
            raise RestoreError(f"kept state version {entry.serial} cannot be read "
                               f"({exc})") from None
        if record is None:
            continue
        good = good_attributes(record.attributes)
        if serial is not None or differs(good, observed):
            return entry.serial, good
    if serial is not None:
        raise RestoreError(f"state serial {serial} is not kept or does not record {address}; "
                           "'drydock state history' lists the kept versions")
    raise RestoreError(f"no kept state version of a successful apply records {address} "
                       "differently from what it is now; nothing to go back to (pass --serial "
                       "to choose one)")


def _last_good(ws: Workspace, request: RestoreRequest, doc: StateDocument,
               now: datetime) -> PlannedRestore:
    assert request.last_good is not None
    name = request.last_good.partition(".")[2]
    address = f"server.{name}"
    if address not in doc.resources:
        raise RestoreError(f"{address} is not in the state; it was never applied, so it has "
                           "no good version")
    now_seen = _refreshed(ws, ws.spec, doc, address)
    assert now_seen is not None
    chosen, good = _good_version(ws, address, dict(now_seen.attributes), request.serial)
    wanted = {k.removeprefix("config:"): v for k, v in good.items()
              if k.startswith("config:") and v}
    found = ws.registry.find_server_files(ws.spec, name, wanted)
    lost = sorted(set(wanted) - set(found))
    if lost:
        raise RestoreError(f"the bytes {address} had at state serial {chosen} for "
                           f"{', '.join(lost)} are in none of its change backups or snapshots; "
                           "nothing was changed")
    spec = last_good_spec(ws.spec, name, good)
    target = last_good_desired(spec, name, good, {p: f.text for p, f in found.items()})
    seen = _refreshed(ws, spec, doc, address, {address: target})
    assert seen is not None
    notes = tuple(f"{path}: the bytes of state serial {chosen}, from {item.source}"
                  for path, item in sorted(found.items()))
    plan = plan_last_good(spec, doc, name, target, seen, serial=chosen, plan_id=new_id(now),
                          now=now, git=git_info(ws.spec.directory))
    return PlannedRestore(plan, notes)
