"""`drydock restore`: one command for every kind of restore, each a plan shown first.

- `restore SNAPSHOT --to ADDR`: a backup snapshot into a database, a server or a folder;
- `restore SERVER@BACKUP --to server.X --only patches`: a server's change backup onto
  another server (the runbook's patch restoration);
- `restore --last-good server.X`: a server back to its last good recorded version.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from engine.commands.common import guarded, workspace
from engine.commands.reviewed import report, run_planned
from engine.contracts.models import Plan
from engine.operations.restore import RestoreRequest, plan_restore
from state.document import StateDocument


@guarded
def restore(
    source: Annotated[str | None, typer.Argument(
        help="A snapshot (ID, SERIES/ID or REPOSITORY:SERIES/ID) or a server's change "
             "backup (SERVER@ID or SERVER@latest).")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="database.NAME, server.NAME or dir:/PATH (an empty folder).")] = None,
    last_good: Annotated[str | None, typer.Option(
        "--last-good", help="Bring server.NAME back to its last good recorded version.")
    ] = None,
    only: Annotated[str | None, typer.Option(
        "--only", help="With a change backup: what to restore (patches).")] = None,
    from_: Annotated[str | None, typer.Option(
        "--from", help="With a snapshot: the repository to read it from.")] = None,
    serial: Annotated[int | None, typer.Option(
        "--serial", help="With --last-good: the kept state version to go back to.")] = None,
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder (default: current).")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
) -> None:
    """Restore from a snapshot, a change backup, or the last good state (plan, then apply).

    Examples:
      drydock restore 20261125T101010Z-ab12cd --to database.apim_db --env specs/prod
      drydock restore dr-vault:gw-1-runtime/20261125T101010Z-ab12cd --to dir:/tmp/look
      drydock restore gw-1@latest --to server.gw-2 --only patches --env specs/prod
      drydock restore --last-good server.gw-1 --env specs/prod
    """
    request = RestoreRequest(source=source, to=to, last_good=last_good, only=only,
                             from_repository=from_, serial=serial)
    ws = workspace(env)

    def make(doc: StateDocument, when: datetime) -> Plan:
        planned = plan_restore(ws, request, doc, when)
        for note in planned.notes:
            print(note, file=sys.stderr)
        return planned.plan

    _plan, result, stored = run_planned(ws, "restore", make, auto_approve=auto_approve)
    assert result is not None
    report(result, stored, "Restore")
