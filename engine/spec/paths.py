"""Paths a spec hands to hosts are untrusted: config file keys and homes checked (pure).

Plans run on pull requests from anyone who can open one, so a path in a spec must not
reach outside the place it names: a config file key stays inside its server's home, a
home inside its host's root, and two servers on one host never share or nest homes.
The checks here are lexical; the loader adds the template check (symlinks resolved) and
providers re-check containment when they touch a host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.spec.models import Environment

Loc = tuple[str | int, ...]
RESERVED = ".drydock"  # drydock's own folder under a host root (change backups, archives)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def relative_path_problem(value: str, what: str) -> str | None:
    """Why `value` is not a plain relative path below its root, or None when it is.

    Refused: empty, absolute (`/etc`, `C:...`), `..`, `.` or empty parts, backslashes,
    NUL and other control characters.

    >>> relative_path_problem("repository/conf/deployment.toml", "config file")
    >>> relative_path_problem("../../x", "config file")
    "config file '../../x' must stay inside its root: '..' is not allowed"
    """
    shown = repr(value if len(value) <= 80 else value[:77] + "...")
    if not value:
        return f"{what} must not be empty"
    if _CONTROL.search(value):
        return f"{what} {shown} holds a control character (NUL, newline, ...)"
    if "\\" in value:
        return f"{what} {shown} holds a backslash; separate folders with '/'"
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        return f"{what} {shown} must be relative (no leading '/')"
    parts = value.split("/")
    if ".." in parts:
        return f"{what} {shown} must stay inside its root: '..' is not allowed"
    if any(p in ("", ".") for p in parts):
        return f"{what} {shown} has an empty or '.' part; write it as a/b/c"
    return None


def path_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    """(location, message) for every unsafe home or config file key, and shared homes."""
    homes: dict[str, dict[tuple[str, ...], str]] = {}
    for name, server in env.servers.items():
        problem = relative_path_problem(server.home, "home")
        if problem is None and server.home.split("/")[0] == RESERVED:
            problem = f"home {server.home!r} is inside {RESERVED}/, drydock's own folder"
        if problem is not None:
            yield ("servers", name, "home"), problem
        else:
            homes.setdefault(server.host, {})
            yield from _overlap(homes[server.host], name, server.home, server.host)
        for key in server.config:
            problem = relative_path_problem(key, "config file")
            if problem is not None:
                yield ("servers", name, "config", key, "<key>"), problem


def _overlap(taken: dict[tuple[str, ...], str], name: str, home: str,
             host: str) -> Iterator[tuple[Loc, str]]:
    """Compare one home with the homes already seen on its host (linear: a dict lookup
    per ancestor, and a marker per ancestor so a later, shorter home finds nested ones)."""
    parts = tuple(home.split("/"))
    loc = ("servers", name, "home")
    other = taken.get(parts)
    if other is not None and not other.startswith("\0"):
        yield loc, f"home {home!r} on host {host} is also server {other}'s home"
        return
    if other is not None:
        yield loc, (f"home {home!r} on host {host} holds server {other[1:]}'s home; "
                    "homes of one host must not nest")
        return
    for i in range(1, len(parts)):
        outer = taken.get(parts[:i])
        if outer is not None and not outer.startswith("\0"):
            yield loc, (f"home {home!r} on host {host} is inside server {outer}'s home "
                        f"{'/'.join(parts[:i])!r}; homes of one host must not nest")
            return
    taken[parts] = name
    for i in range(1, len(parts)):
        taken.setdefault(parts[:i], "\0" + name)
