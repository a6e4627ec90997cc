"""Path questions and tree moves on a host, composed only from `Transport` primitives.

These are what the providers above the seam ask most (is it a folder, read a small text
file, is this key inside the home once links are resolved, put a staged tree in place),
written once against the interface so every transport answers them the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import BinaryIO

from providers.hosts.base import HostError, Transport
from providers.hosts.streams import piped
from safefs.pathsafety import UnsafePathError, safe_member_name


def is_dir(t: Transport, path: PurePosixPath) -> bool:
    """True for a real folder (a link to one is not)."""
    st = t.stat(path)
    return st is not None and st.kind == "dir"


def is_file(t: Transport, path: PurePosixPath) -> bool:
    """True for a regular file (a link to one is not)."""
    st = t.stat(path)
    return st is not None and st.kind == "file"


def exists(t: Transport, path: PurePosixPath) -> bool:
    """True when anything is there, a dangling link included."""
    return t.stat(path) is not None


def is_empty_dir(t: Transport, path: PurePosixPath) -> bool:
    """True for a folder with nothing in it."""
    return is_dir(t, path) and not t.list_dir(path)


def read_text(t: Transport, path: PurePosixPath, *, limit: int = 1 << 20) -> str | None:
    """A small UTF-8 file's text; None when no regular file is there."""
    if not is_file(t, path):
        return None
    return t.read_bytes(path, limit=limit).decode("utf-8")


def inside(t: Transport, root: PurePosixPath, relative: str | PurePosixPath, *,
           what: str = "path") -> PurePosixPath:
    """`root / relative`, proven on the host to stay inside `root` once links are resolved.

    `relative` must be plain (no absolute path, no `..`). Returns the resolved path.
    Raises UnsafePathError naming the host, `what` and the path when it would leave the
    root (a link inside the home pointing to /etc is refused).
    """
    return inside_resolved(t, t.realpath(root), root, relative, what=what)


def inside_resolved(t: Transport, base: PurePosixPath, root: PurePosixPath,
                    relative: str | PurePosixPath, *, what: str = "path") -> PurePosixPath:
    """`inside` for a root already resolved to `base` (`t.realpath(root)`): many paths
    under one root cost one resolution of the root, not one each."""
    rel = safe_member_name(str(relative), archive=what)
    target = t.realpath(base / rel)
    if target != base and not str(target).startswith(str(base).rstrip("/") + "/"):
        raise UnsafePathError(f"{what}: {relative!s} resolves outside {root} on {t.host} "
                              f"(to {target})")
    return target


def fresh_sibling(path: PurePosixPath, what: str) -> PurePosixPath:
    """A new hidden name beside `path`: `.<name>.<what>-<random>`."""
    return path.with_name(f".{path.name}.{what}-{secrets.token_hex(4)}")


def remove_staging(t: Transport, path: PurePosixPath) -> list[str]:
    """Remove the hidden staging folders beside `path` that `fresh_sibling` and
    `stage_tree` name after it (`.<name>.*`, `..<name>.*`): what a run killed while it
    staged left. Call it only while nothing else stages beside `path`."""
    removed = []
    for entry in t.list_dir(path.parent):
        if entry.name.startswith((f".{path.name}.", f"..{path.name}.")):
            t.remove_tree(path.parent / entry.name)
            removed.append(entry.name)
    return removed


def stage_tree(t: Transport, dest: PurePosixPath,
               produce: Callable[[BinaryIO], None]) -> PurePosixPath:
    """Extract the tar stream `produce` writes into a new folder beside `dest`.

    Returns the staged folder (the caller renames it into place). On any failure the
    staged folder is removed and the error raised; the producer's own error wins over
    the host's complaint about the stream it cut short.
    """
    staged = fresh_sibling(dest, "partial")
    t.mkdir(dest.parent)
    try:
        piped(produce, lambda stream: t.tar_in(staged, stream))
    except BaseException:
        t.remove_tree(staged)
        raise
    return staged


def put_tree(t: Transport, dest: PurePosixPath, produce: Callable[[BinaryIO], None]) -> None:
    """Stage the tar stream beside `dest` and rename it into place (`dest` absent or an
    empty folder). Raises HostError when `dest` holds something."""
    if exists(t, dest) and not is_empty_dir(t, dest):
        raise HostError(f"{t.host}: {dest} exists and is not an empty folder")
    staged = stage_tree(t, dest, produce)
    try:
        t.rename(staged, dest)
    except BaseException:
        t.remove_tree(staged)
        raise
