"""`drydock restore`: one command for every kind of restore, each a plan shown first.

- `restore SNAPSHOT --to ADDR`: a backup snapshot into a database, a server or a folder;
- `restore SERVER@BACKUP --to server.X --only patches`: a server's change backup onto
  another server (the runbook's patch restoration);
- `restore --last-good server.X`: a server back to its last good recorded version.
"""

from __future__ import annotations

from typing import Annotated

import typer

from engine.commands import restore as change_backup
from engine.commands import restore_snapshot
from engine.commands.common import fail


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
    if last_good is not None:
        if source is not None or to is not None:
            fail("--last-good takes no SOURCE or --to; it restores the server it names")
        restore_snapshot.restore_last_good(last_good, serial=serial, env=env,
                                           auto_approve=auto_approve)
        return
    if source is None or to is None:
        fail("name what to restore and where: restore SOURCE --to ADDR, or "
             "restore --last-good server.NAME (see 'drydock restore --help')")
    if "@" in source:
        change_backup.restore(source, to=to, only=only or "patches", env=env,
                              auto_approve=auto_approve)
        return
    if only is not None:
        fail("--only goes with a change backup (SERVER@ID); a snapshot restores whole")
    restore_snapshot.restore_snapshot(source, to=to, source=from_, env=env,
                                      auto_approve=auto_approve)
