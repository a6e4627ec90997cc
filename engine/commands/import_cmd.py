"""`drydock import ADDR...`: record declared servers and databases as they exist, so the
first plan shows only real differences (Terraform's import, for a WSO2 estate)."""

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
    who,
    workspace,
)
from state.document import AppliedInfo


@guarded
def import_(
    addresses: Annotated[list[str], typer.Argument(
        metavar="ADDR", help="Declared addresses to adopt, e.g. server.gw-1 "
                                "database.apim_db.")],
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder (default: .)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Adopt what already runs: observe each declared server or database and record it in
    the state as it is. Nothing in the world changes.

    Declare the resource as it is first; then the next plan shows only real differences
    and drift has a baseline from the start.

    Examples:
      drydock import server.gw-1 server.gw-2 --env specs/prod
      drydock import database.apim_db --env specs/prod --format json
    """
    from engine.operations.adopt import AdoptError, observe_for_import, store_imported

    ws = workspace(env, lock_timeout=lock_timeout)
    now = clock_now()
    with ws.state.lock("import"):
        doc = ws.state.read()
        try:
            imported = observe_for_import(ws, doc, addresses, now)
        except AdoptError as exc:
            fail(f"{exc} (nothing was imported)")
        applied = AppliedInfo(who=who(), when=now,
                              summary="import " + " ".join(i.address for i in imported))
        stored = store_imported(ws, doc, imported, applied)
    if fmt is Format.json:
        print_json({"serial": stored.serial, "imported": [
            {"address": i.address, "attributes": i.record.attributes,
             "differences": [d.model_dump(mode="json") for d in i.differences]}
            for i in imported]})
        return
    lines = []
    for i in imported:
        lines.append(f"imported {i.address}: " + ", ".join(
            f"{k}={_short(v)}" for k, v in sorted(i.record.attributes.items())) + "\n")
        for d in i.differences:
            lines.append(f"  differs from the spec: {d.name} {_short(d.before)} → "
                         f"{_short(d.after)}\n")
    print_text("".join(lines))
    err.print(f"state serial {stored.serial}; 'drydock plan' shows what the spec would change")


def _short(value: object) -> str:
    text = str(value)
    return text[:19] + "…" if text.startswith("sha256:") else text
