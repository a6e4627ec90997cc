"""`drydock restore`: plan a restore onto a server, show it, apply it on approval."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.clock import now as clock_now
from engine.commands.common import fail, guarded, workspace
from engine.commands.reviewed import apply_reviewed, report
from engine.contracts.provider import ObserveRequest
from engine.desired import build_desired
from engine.gitinfo import git_info
from engine.operations.plan_apply import new_id
from engine.planners.restore import (
    ONLY,
    ChangeBackupFacts,
    RestoreError,
    parse_source,
    parse_target,
    plan_patch_restore,
)
from engine.refresh import refresh


@guarded
def restore(
    source: Annotated[str, typer.Argument(
        help="<server>@<change-backup-id> or <server>@latest.")],
    to: Annotated[str, typer.Option("--to", help="The server to restore onto: server.NAME.")],
    only: Annotated[str, typer.Option("--only", help="What to restore: patches.")] = "patches",
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder (default: current).")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
) -> None:
    """Restore part of a server from a backup: a plan, shown, then applied on approval.

    A change backup is the pre-change backup drydock takes on the server's host
    (<host_root>/.drydock/change-backups/<server>/<id>/); `latest` picks the newest.

    Example: drydock restore gw-1@latest --to server.gw-2 --only patches --env specs/prod
    """
    try:
        ref, target = parse_source(source), parse_target(to)
    except RestoreError as exc:
        fail(str(exc))
    if ref.kind != "change-backup":
        fail(f"{source!r}: restoring a backup repository snapshot onto a server is not "
             "supported yet; name a change backup as <server>@<id> or <server>@latest")
    if only not in ONLY:
        fail(f"--only {only!r}: a change backup can restore {', '.join(ONLY)}")
    ws = workspace(env)
    when = clock_now()
    with ws.state.lock("restore"):
        doc = ws.state.read()
        seen = ws.registry.observe(ObserveRequest(address=ref.address, kind="change-backup",
                                                  spec=ws.spec, desired=None, recorded=None))
        if seen.error or not seen.exists:
            fail(seen.error or f"{source}: change backup not found")
        address = f"server.{target}"
        desired = {a: d for a, d in build_desired(ws.spec).items() if a == address}
        observed = refresh(ws.registry, ws.spec, desired,
                           {a: r for a, r in doc.resources.items() if a == address})
        if address not in observed:
            fail(f"{address} is not in the spec; restore onto a declared server")
        if observed[address].error:
            fail(observed[address].error or "")
        try:
            made = plan_patch_restore(
                ws.spec, doc, target, ChangeBackupFacts.model_validate(seen.attributes),
                observed[address], plan_id=new_id(when), now=when,
                git=git_info(ws.spec.directory))
        except RestoreError as exc:
            fail(str(exc))
        result, stored = apply_reviewed(ws, made, doc, auto_approve=auto_approve,
                                        what="restore", when=when)
    report(result, stored, "Restore")
