"""`drydock state ...`: inspect and repair the recorded state."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.clock import now as clock_now
from engine.commands.common import (
    Format,
    LockTimeout,
    err,
    fail,
    guarded,
    print_json,
    print_text,
    require_format,
    workspace,
)
from state.document import AppliedInfo

app = typer.Typer(help="Inspect and repair the recorded state.", no_args_is_help=True)
EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]
FmtOpt = Annotated[Format, typer.Option("--format", help="text or json.")]


@app.command("list")
@guarded
def list_(env: EnvOpt = None, fmt: FmtOpt = Format.text) -> None:
    """List recorded resources.  Example: drydock state list --env specs/demo"""
    require_format(fmt, Format.text, Format.json)
    doc = workspace(env).state.read()
    if fmt is Format.json:
        print_json({"serial": doc.serial, "lineage": doc.lineage,
                    "resources": sorted(doc.resources)})
        return
    print_text("".join(f"{a}\n" for a in sorted(doc.resources)))


@app.command()
@guarded
def show(address: str, env: EnvOpt = None) -> None:
    """Show one recorded resource as JSON.  Example: drydock state show server.gw-1"""
    doc = workspace(env).state.read()
    record = doc.resources.get(address)
    if record is None:
        fail(f"{address} is not in the state; 'drydock state list' shows what is")
    print_json(record)


@app.command()
@guarded
def rm(address: str, env: EnvOpt = None, fmt: FmtOpt = Format.text,
       lock_timeout: LockTimeout = 0.0) -> None:
    """Forget a resource without touching the world.  Example: drydock state rm server.old"""
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env, lock_timeout=lock_timeout)
    with ws.state.lock("state rm"):
        doc = ws.state.read()
        if address not in doc.resources:
            fail(f"{address} is not in the state; 'drydock state list' shows what is")
        resources = {a: r for a, r in doc.resources.items() if a != address}
        applied = AppliedInfo(who=_who(), when=clock_now(), summary=f"state rm {address}")
        new = ws.state.write(doc.model_copy(update={"resources": resources, "applied": applied}),
                             expect=doc)
    if fmt is Format.json:
        print_json({"removed": address, "serial": new.serial, "lineage": new.lineage})
        return
    err.print(f"removed {address} from the state (serial {new.serial})")


@app.command()
@guarded
def history(env: EnvOpt = None, fmt: FmtOpt = Format.text) -> None:
    """List kept state versions.  Example: drydock state history --env specs/demo"""
    require_format(fmt, Format.text, Format.json)
    entries = workspace(env).state.history()
    if fmt is Format.json:
        print_json([e.model_dump(mode="json") for e in entries])
        return
    lines = []
    for e in entries:
        a = e.applied
        when = a.when.isoformat(timespec="seconds") if a else "-"
        who = a.who if a else "-"
        commit = (a.commit or "-")[:10] if a else "-"
        summary = (a.summary if a else e.summary) or ""
        lines.append(f"{e.serial:>6}  {when:<25}  {who:<24}  {commit:<10}  {summary}"
                     + ("" if e.valid else "  (corrupt)"))
    print_text(f"{'serial':>6}  {'time':<25}  {'who':<24}  {'commit':<10}  summary\n"
               + "".join(line + "\n" for line in lines))


@app.command()
@guarded
def rollback(serial: int, env: EnvOpt = None, fmt: FmtOpt = Format.text,
             lock_timeout: LockTimeout = 0.0) -> None:
    """Make an earlier version current again (recorded as a new serial).

    Example: drydock state rollback 7 --env specs/demo
    """
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env, lock_timeout=lock_timeout)
    with ws.state.lock("state rollback"):
        applied = AppliedInfo(who=_who(), when=clock_now(), summary=f"rollback to {serial}")
        new = ws.state.rollback(serial, applied=applied)
    if fmt is Format.json:
        print_json({"rolled_back_to": serial, "serial": new.serial, "lineage": new.lineage})
        return
    err.print(f"state rolled back to the content of serial {serial}; now serial {new.serial}")


@app.command()
@guarded
def lock(env: EnvOpt = None, fmt: FmtOpt = Format.text) -> None:
    """Show who holds the state lock (id, pid, host, user, operation, since when).

    Example: drydock state lock --env specs/prod
    """
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    holder = ws.state.locker.holder()
    if fmt is Format.json:
        print_json({"state": ws.state.location,
                    "holder": None if holder is None else holder.model_dump(mode="json")})
        return
    if holder is None:
        print_text(f"state {ws.state.location} is not locked\n")
        return
    print_text(f"state {ws.state.location} is locked by {holder.operation}: lock id "
               f"{holder.id}, pid {holder.pid} on host {holder.host}, user {holder.user}, since "
               f"{holder.created.isoformat()}\nIf that run is gone, remove the lock with: "
               f"drydock state unlock {holder.id}\n")


@app.command()
@guarded
def unlock(lock_id: str, env: EnvOpt = None, fmt: FmtOpt = Format.text) -> None:
    """Remove a lock whose holder is gone.  Example: drydock state unlock 5f0c…"""
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    ws.state.locker.force_unlock(lock_id)
    if fmt is Format.json:
        print_json({"unlocked": lock_id, "state": ws.state.location})
        return
    err.print(f"lock {lock_id} removed")


def _who() -> str:
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()}"
