"""`drydock state mv SOURCE DESTINATION`: give a recorded resource a new address after a
rename in the spec, so the next plan neither deletes the old one nor creates the new one.

Only the state changes; the world is not touched. Both addresses are of the same kind.
"""

from __future__ import annotations

import re
from typing import Annotated

import typer

from engine.clock import now as clock_now
from engine.commands.common import LockTimeout, err, fail, guarded, who, workspace
from state.document import AppliedInfo

_ADDRESS = re.compile(r"^(?P<kind>[a-z][a-z0-9_-]*)\.(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)$")
EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]


def _parts(address: str) -> tuple[str, str]:
    found = _ADDRESS.fullmatch(address)
    if found is None:
        fail(f"{address!r} is not an address like server.gw-1")
    return found["kind"], found["name"]


@guarded
def mv(
    source: Annotated[str, typer.Argument(help="The recorded address, e.g. server.gw-1.")],
    destination: Annotated[str, typer.Argument(help="Its new address, e.g. server.gw-a1.")],
    env: EnvOpt = None,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Move a recorded resource to a new address (after renaming it in the spec).

    Example: drydock state mv server.gw-1 server.gw-a1 --env specs/prod
    """
    kind, _name = _parts(source)
    new_kind, new_name = _parts(destination)
    if new_kind != kind:
        fail(f"cannot move {source} to {destination}: a {kind} stays a {kind}")
    ws = workspace(env, lock_timeout=lock_timeout)
    with ws.state.lock("state mv"):
        doc = ws.state.read()
        record = doc.resources.get(source)
        if record is None:
            fail(f"{source} is not in the state; 'drydock state list' shows what is")
        if destination in doc.resources:
            fail(f"{destination} is already in the state; remove it first with "
                 f"'drydock state rm {destination}' if it is stale")
        moved = record.model_copy(update={"name": new_name})
        resources = {(destination if a == source else a): (moved if a == source else r)
                     for a, r in doc.resources.items()}
        applied = AppliedInfo(who=who(), when=clock_now(),
                              summary=f"state mv {source} {destination}")
        new = ws.state.write(doc.model_copy(update={"resources": resources,
                                                    "applied": applied}), expect=doc)
    err.print(f"moved {source} to {destination} in the state (serial {new.serial})")
