"""Checks for member names that come from untrusted archives or specs.

Every archive drydock reads (packs, update packages, patch archives, snapshot parts) is
untrusted input. A member name is accepted only when it is a plain relative path that
stays inside the directory it is extracted into.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class UnsafePathError(ValueError):
    """A path from outside would escape its destination or is not a plain file name."""


def safe_member_name(name: str, *, archive: str = "archive") -> PurePosixPath:
    """Return `name` as a relative POSIX path, or raise UnsafePathError.

    Refuses empty names, absolute paths (``/x``, ``C:\\x``), backslashes and any ``..``
    component. ``./a/b`` is normalised to ``a/b``.

    >>> safe_member_name("carbon.home/bin/x.sh").as_posix()
    'carbon.home/bin/x.sh'
    """
    if not name or "\x00" in name:
        raise UnsafePathError(f"{archive}: empty or NUL-containing member name")
    if "\\" in name:
        raise UnsafePathError(f"{archive}: member {name!r} contains a backslash")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafePathError(f"{archive}: member {name!r} is an absolute path")
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"{archive}: member {name!r} names no file")
    if ".." in parts:
        raise UnsafePathError(f"{archive}: member {name!r} climbs out with '..'")
    return PurePosixPath(*parts)


def contained(root: Path, relative: str | PurePosixPath, *, what: str = "path") -> Path:
    """Join `relative` under `root` and prove the result stays inside `root`.

    Symlinks already inside `root` are resolved, so a link pointing outside is refused.
    Raises UnsafePathError when the path would leave `root`.
    """
    rel = safe_member_name(str(relative), archive=what)
    base = root.resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError(f"{what}: {relative!s} resolves outside {root}")
    return target
