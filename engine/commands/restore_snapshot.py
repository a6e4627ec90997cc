"""`drydock restore SNAPSHOT --to ADDR` and `drydock restore --last-good server.X`.

Both build a plan (shown first), then apply it on approval through the ordinary apply
machinery, so the journal, the lock and the state record the restore like any change.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.clock import now as clock_now
from engine.commands.common import fail, guarded, workspace
from engine.commands.reviewed import apply_reviewed, report
from engine.contracts.models import ObservedResource
from engine.contracts.provider import ObserveRequest
from engine.desired import build_desired
from engine.gitinfo import git_info
from engine.operations.plan_apply import new_id
from engine.refresh import refresh
from engine.restoring import (
    RestoreError,
    RestoreTarget,
    SnapshotInfo,
    differs,
    find_snapshot,
    good_attributes,
    last_good_desired,
    last_good_spec,
    parse_restore_target,
    parse_snapshot_ref,
    plan_last_good,
    plan_snapshot_restore,
    succeeded,
)
from engine.workspace import Workspace
from state.document import StateDocument
from state.errors import StateError

EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]
ApproveOpt = Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")]


def observe_one(ws: Workspace, address: str, kind: str,
                data: dict[str, Any] | None = None) -> ObservedResource:
    """Observe one thing through the registry; fails with its one-line error."""
    seen = ws.registry.observe(ObserveRequest(address=address, kind=kind, spec=ws.spec,
                                              desired=None, recorded=None, data=data or {}))
    if seen.error:
        fail(seen.error)
    return seen


def listings(ws: Workspace, names: Sequence[str]) -> tuple[dict[str, list[SnapshotInfo]],
                                                           list[str]]:
    """Snapshots per repository, and one line per repository that could not be read."""
    found: dict[str, list[SnapshotInfo]] = {}
    unreadable = []
    for name in names:
        seen = ws.registry.observe(ObserveRequest(address=f"repository.{name}",
                                                  kind="repository", spec=ws.spec,
                                                  desired=None, recorded=None))
        if seen.error:
            unreadable.append(seen.error)
            continue
        found[name] = [SnapshotInfo.model_validate(s) for s in seen.facts["snapshots"]]
    return found, unreadable


def _target_state(ws: Workspace, doc: StateDocument, snap: SnapshotInfo,
                  target: RestoreTarget) -> tuple[bool, dict[str, str]]:
    """Whether the target holds something now, and the snapshot's managed-file digests."""
    if target.kind == "dir":
        path = Path(target.name)
        return path.exists() and (not path.is_dir() or any(path.iterdir())), {}
    address = target.address
    desired = {a: d for a, d in build_desired(ws.spec).items() if a == address}
    if not desired:
        fail(f"{address} is not in the spec; restore into a declared {target.kind}")
    seen = refresh(ws.registry, ws.spec, desired,
                   {a: r for a, r in doc.resources.items() if a == address})[address]
    if seen.error:
        fail(seen.error)
    digests: dict[str, str] = {}
    if target.kind == "server" and snap.kind != "database":
        files = sorted(ws.spec.env.servers[target.name].config)
        facts = observe_one(ws, f"snapshot.{snap.repository}:{snap.series}/{snap.id}",
                            "snapshot", {"files": files}).facts
        digests = dict(facts.get("files", {}))
    return seen.exists, digests


@guarded
def restore_snapshot(
    snapshot: Annotated[str, typer.Argument(
        help="The snapshot: ID, SERIES/ID or REPOSITORY:SERIES/ID.")],
    to: Annotated[str, typer.Option(
        "--to", help="database.NAME, server.NAME or dir:/PATH (an empty folder).")],
    source: Annotated[str | None, typer.Option(
        "--from", help="The repository to read it from (default: the policy's own, else "
                       "any copy).")] = None,
    env: EnvOpt = None,
    auto_approve: ApproveOpt = False,
) -> None:
    """Restore a snapshot: a plan (with a backup of what it overwrites), then the restore.

    Examples:
      drydock restore 20261125T101010Z-ab12cd --to database.apim_db --env specs/prod
      drydock restore gw-1-runtime/20261125T101010Z-ab12cd --to server.gw-1
      drydock restore dr-vault:apim-db/20261125T101010Z-ab12cd --to dir:/tmp/look
    """
    try:
        ref, target = parse_snapshot_ref(snapshot), parse_restore_target(to)
    except RestoreError as exc:
        fail(str(exc))
    if target.kind == "dir":
        target = RestoreTarget(kind="dir", name=str(Path(target.name).resolve()))
    ws = workspace(env)
    when = clock_now()
    names = [source] if source else sorted(ws.spec.env.repositories)
    if source and source not in ws.spec.env.repositories:
        fail(f"--from {source!r}: no such repository in the spec")
    found, unreadable = listings(ws, names)
    policy = ws.spec.env.backups.get(ref.series or "")
    prefer = [policy.repository, *policy.copies] if policy else []
    try:
        snap = find_snapshot(ref, found, prefer)
    except RestoreError as exc:
        fail("; ".join([str(exc), *unreadable]))
    with ws.state.lock("restore"):
        doc = ws.state.read()
        exists, digests = _target_state(ws, doc, snap, target)
        try:
            made = plan_snapshot_restore(ws.spec, doc, snap, target, exists=exists,
                                         digests=digests, plan_id=new_id(when), now=when,
                                         git=git_info(ws.spec.directory))
        except RestoreError as exc:
            fail(str(exc))
        result, stored = apply_reviewed(ws, made, doc, auto_approve=auto_approve,
                                        what="restore")
    report(result, stored, "Restore")


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
            fail(f"kept state version {entry.serial} cannot be read ({exc})")
        if record is None:
            continue
        good = good_attributes(record.attributes)
        if serial is not None or differs(good, observed):
            return entry.serial, good
    if serial is not None:
        fail(f"state serial {serial} is not kept or does not record {address}; 'drydock state "
             "history' lists the kept versions")
    fail(f"no kept state version of a successful apply records {address} differently from "
         "what it is now; nothing to go back to (pass --serial to choose one)")


@guarded
def restore_last_good(
    server: Annotated[str, typer.Argument(help="The server to bring back: server.NAME.")],
    serial: Annotated[int | None, typer.Option(
        "--serial", help="The kept state version to go back to (default: the newest "
                         "successful apply that recorded the server differently from now).")
    ] = None,
    env: EnvOpt = None,
    auto_approve: ApproveOpt = False,
) -> None:
    """Bring a server back to its last good version: update level, patches and the exact
    bytes of its managed files, found in its change backups or snapshots.

    Example: drydock restore --last-good server.gw-1 --env specs/prod
    """
    kind, _, name = server.partition(".")
    if kind != "server" or not name:
        fail(f"--last-good {server!r}: name a server, e.g. server.gw-1")
    ws = workspace(env)
    when = clock_now()
    address = f"server.{name}"
    if name not in ws.spec.env.servers:
        fail(f"{address} is not in the spec; restore a declared server")
    with ws.state.lock("restore"):
        doc = ws.state.read()
        if address not in doc.resources:
            fail(f"{address} is not in the state; it was never applied, so it has no good "
                 "version")
        desired = {a: d for a, d in build_desired(ws.spec).items() if a == address}
        now_seen = refresh(ws.registry, ws.spec, desired, {address: doc.resources[address]})
        chosen, good = _good_version(ws, address, dict(now_seen[address].attributes), serial)
        wanted = {k.removeprefix("config:"): v for k, v in good.items()
                  if k.startswith("config:") and v}
        found = observe_one(ws, f"server-files.{name}", "server-files",
                            {"wanted": wanted}).facts.get("found", {})
        lost = sorted(set(wanted) - set(found))
        if lost:
            fail(f"the bytes {address} had at state serial {chosen} for {', '.join(lost)} are in "
                 "none of its change backups or snapshots; nothing was changed")
        texts = {path: item["text"] for path, item in found.items()}
        spec = last_good_spec(ws.spec, name, good)
        target = last_good_desired(spec, name, good, texts)
        seen = refresh(ws.registry, spec, {address: target}, {address: doc.resources[address]})
        if seen[address].error:
            fail(seen[address].error or "")
        for path, item in sorted(found.items()):
            print(f"{path}: the bytes of state serial {chosen}, from {item['source']}",
                  file=sys.stderr)
        try:
            made = plan_last_good(spec, doc, name, target, seen[address], serial=chosen,
                                  plan_id=new_id(when), now=when,
                                  git=git_info(ws.spec.directory))
        except RestoreError as exc:
            fail(str(exc))
        result, stored = apply_reviewed(ws, made, doc, auto_approve=auto_approve,
                                        what="restore")
    report(result, stored, "Restore")
