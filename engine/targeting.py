"""Resource targeting (`--target`): which addresses a plan is limited to (pure).

A target is an address (`server.gw-1`), a kind (`server`), or a shell-style glob
(`'server.gw-*'`, `'backup.*-db'`). Every target must match at least one resource of the
spec or the state: a target that matches nothing is a typo, and a plan that silently
changes nothing because of a typo is worse than an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

_GLOB_CHARS = frozenset("*?[")


class TargetError(ValueError):
    """A `--target` that matches no resource; the message names it."""


def is_glob(target: str) -> bool:
    """True when `target` uses a shell wildcard (`*`, `?`, `[...]`)."""
    return any(ch in _GLOB_CHARS for ch in target)


def matches(address: str, target: str) -> bool:
    """True when `target` selects `address`: equal, the address' kind, a nested address
    under it, or a glob matching it.

    >>> matches("server.gw-1", "server"), matches("server.gw-12", "server.gw-*")
    (True, True)
    """
    if is_glob(target):
        return fnmatchcase(address, target)
    return (address == target or address.startswith(target + ".")
            or address.split(".", 1)[0] == target)


def selected(address: str, targets: Sequence[str]) -> bool:
    """True when no targets are given, or one of them selects `address`."""
    return not targets or any(matches(address, t) for t in targets)


def resolve_targets(targets: Sequence[str], known: Iterable[str]) -> list[str]:
    """The known addresses the targets select, sorted.

    Raises TargetError naming the first target that selects nothing (with a close match
    when one exists).
    """
    addresses = sorted(set(known))
    chosen: set[str] = set()
    for target in targets:
        hits = [a for a in addresses if matches(a, target)]
        if not hits:
            raise TargetError(_unknown(target, addresses))
        chosen.update(hits)
    return sorted(chosen)


def targeting_warning(targets: Sequence[str], chosen: Sequence[str]) -> str:
    """The warning every targeted plan carries (as Terraform prints one)."""
    shown = ", ".join(chosen[:8]) + (f" and {len(chosen) - 8} more" if len(chosen) > 8 else "")
    return (f"resource targeting is in effect (--target {' --target '.join(targets)}): only "
            f"{shown} planned; other changes, drift and backups of the environment are not "
            "shown. Use --target for exceptional cases, then plan without it.")


def _unknown(target: str, addresses: Sequence[str]) -> str:
    return unknown_address("--target", target, addresses)


def unknown_address(option: str, target: str, addresses: Sequence[str]) -> str:
    """The one-line error of `option TARGET` selecting nothing, with a close match when
    one exists."""
    from difflib import get_close_matches

    close = get_close_matches(target, addresses, n=1)
    hint = f"; did you mean {close[0]}?" if close else (
        "; 'drydock state list' and the spec show the addresses (kind.name)")
    what = "matches no resource" if is_glob(target) else "no such resource"
    return f"{option} {target}: {what} in the spec or the state{hint}"
