"""Forced replacement (`--replace ADDR`): which resources a plan rebuilds although nothing
about them changed, as Terraform's `-replace` (pure).

Only a server can be replaced: its home is rebuilt from the product pack at its level,
its patches and configuration applied again (the planned pack replacement, with its
pre-change backup). Every other kind holds nothing drydock could rebuild, so asking is an
error naming the address, as is an address that is in neither the spec nor the state.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from engine.contracts.models import Change
from engine.targeting import is_glob, selected, unknown_address

REASON = "requested with --replace"
REPLACEABLE = frozenset({"server"})


class ReplaceRequestError(ValueError):
    """A `--replace` that cannot be honoured; the message names the address."""


def check_replacements(replace: Sequence[str], desired: Collection[str],
                       recorded: Collection[str],
                       targets: Sequence[str] = ()) -> frozenset[str]:
    """The addresses to rebuild, each checked against the spec (`desired`), the state
    (`recorded`) and the plan's targets.

    Raises ReplaceRequestError naming the first address that is a pattern, unknown, of a
    kind that cannot be replaced, only in the state (the plan removes it), or outside
    the targets.
    """
    for address in replace:
        kind = address.split(".", 1)[0]
        if is_glob(address) or "." not in address:
            raise ReplaceRequestError(f"--replace {address}: name one resource as kind.name "
                                      "(e.g. server.gw-1), not a kind or a pattern")
        if address not in desired and address not in recorded:
            raise ReplaceRequestError(unknown_address("--replace", address,
                                                      sorted({*desired, *recorded})))
        if kind not in REPLACEABLE:
            raise ReplaceRequestError(
                f"--replace {address}: only servers can be replaced; a {kind} holds nothing "
                "drydock rebuilds")
        if address not in desired:
            raise ReplaceRequestError(f"--replace {address}: it is removed from the spec, so "
                                      "the plan deletes it; there is nothing to rebuild")
        if not selected(address, targets):
            raise ReplaceRequestError(f"--replace {address}: not among the --target "
                                      f"addresses ({', '.join(targets)}); target it too")
    return frozenset(replace)


def replaced(change: Change, replace: Collection[str]) -> Change:
    """`change` as a replacement when its address is to be rebuilt and it exists (a
    resource about to be created is simply created)."""
    if change.address not in replace or change.action in ("create", "delete"):
        return change
    reason = REASON if change.action == "no-op" else f"{REASON}; also {change.reason}"
    return change.model_copy(update={"action": "replace", "reason": reason})


def replace_warnings(changes: Sequence[Change], replace: Collection[str]) -> list[str]:
    """A line for each address to rebuild that does not exist yet (it is created)."""
    return [f"--replace {c.address}: it does not exist yet; the plan creates it"
            for c in changes if c.address in replace and c.action == "create"]
