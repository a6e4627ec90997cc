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

from engine.commands.common import Format, LockTimeout, guarded, require_format, workspace
from engine.commands.reviewed import report, run_planned, show_on_stderr, show_text
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
    include: Annotated[list[str] | None, typer.Option(
        "--include", help="With a snapshot of paths: only what this pattern selects "
                          "(repeatable), e.g. 'repository/conf' or '*.xml'.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="With a snapshot of paths: leave out what this pattern selects "
                          "(repeatable), e.g. '*.log'.")] = None,
    fmt: Annotated[Format, typer.Option(
        "--format", help="text, or json: the plan goes to stderr and the result of every "
                         "action to stdout.")] = Format.text,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Restore from a snapshot, a change backup, or the last good state (plan, then apply).

    Examples:
      drydock restore 20261125T101010Z-ab12cd --to database.apim_db --env specs/prod
      drydock restore dr-vault:gw-1-runtime/20261125T101010Z-ab12cd --to dir:/tmp/look
      drydock restore gw-1@latest --to server.gw-2 --only patches --env specs/prod
      drydock restore --last-good server.gw-1 --env specs/prod
      drydock restore gw-1-runtime/20261125T101010Z-ab12cd --to dir:/tmp/look \\
          --include repository/conf --exclude '*.log' --auto-approve --format json
    """
    require_format(fmt, Format.text, Format.json)
    request = RestoreRequest(source=source, to=to, last_good=last_good, only=only,
                             from_repository=from_, serial=serial,
                             include=tuple(include or ()), exclude=tuple(exclude or ()))
    ws = workspace(env, lock_timeout=lock_timeout)

    def make(doc: StateDocument, when: datetime) -> Plan:
        planned = plan_restore(ws, request, doc, when)
        for note in planned.notes:
            print(note, file=sys.stderr)
        return planned.plan

    as_json = fmt is Format.json
    _plan, result, stored = run_planned(ws, "restore", make, auto_approve=auto_approve,
                                        show=show_on_stderr if as_json else show_text)
    assert result is not None
    report(result, stored, "Restore", as_json=as_json)
