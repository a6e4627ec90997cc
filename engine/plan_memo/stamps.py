"""What a memo is keyed by: drydock's own code, the interpreter, the folders, file stamps."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import engine

PACKAGES = ("engine", "providers", "state", "safefs")
"""drydock's packages, siblings of `engine` wherever it is installed."""


def _walk_py(folder: str, out: list[str]) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        out.append(f"{folder}\0-")
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
            _walk_py(entry.path, out)
        elif entry.name.endswith(".py"):
            st = entry.stat(follow_symlinks=False)
            out.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}")


def code_stamp() -> str:
    """Digest of drydock's version, of every source file's path, size, mtime and inode,
    and of the interpreter and its import folders (an edited or reinstalled drydock, or a
    package installed beside it, never trusts an older memo)."""
    root = Path(engine.__file__).absolute().parent.parent
    lines = [engine.__version__, sys.version, sys.prefix]
    for folder in sys.path:
        lines.append(f"{folder}\0{file_stamp(folder or '.')}")
    for package in PACKAGES:
        _walk_py(str(root / package), lines)
    return hashlib.sha256("\n".join(lines).encode("utf-8", "surrogateescape")).hexdigest()


def memo_key(directory: Path) -> str:
    """The key of the memo of the spec in `directory` planned from the working folder."""
    parts = [code_stamp(), os.path.realpath(directory), os.path.realpath(Path.cwd())]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def file_stamp(path: str) -> str:
    """size, mtime and inode of `path` ("-" when absent): a rewrite by rename (the state)
    or an append (the journal) always changes it."""
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return "-"
    except OSError as exc:
        return f"!{exc.errno}"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
