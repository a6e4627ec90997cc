"""Crash-safe file replacement: temp file in the same directory, fsync, rename, fsync dir."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

TEMP_MARK = ".tmp-"
PRIVATE_FILE = 0o600
"""State, history, journal, lock and plan files hold recorded facts: owner only."""
PRIVATE_DIR = 0o700
"""Temporary files are named ``.<name>.tmp-<hex>``; listings skip names starting with '.'."""


def fsync_dir(directory: Path) -> None:
    """Flush `directory`'s entries (a rename or unlink in it) to disk.

    Raises OSError when the directory cannot be opened.
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and each missing parent with mode 0700 (existing ones untouched).

    Raises OSError from the file system.
    """
    missing: list[Path] = []
    probe = directory
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        item.chmod(PRIVATE_DIR)  # mkdir's mode passes through the umask


def private_fd(fd: int) -> None:
    """Narrow an opened file to 0600 (files made by older versions were 0644)."""
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except PermissionError:
        pass  # another user's file: leave its mode to its owner


def write_atomic(path: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Replace `path` with `data` so that readers see the old or the new bytes, never a mix.

    Writes a temp file beside `path`, fsyncs it, renames it over `path` and fsyncs the
    directory. On any failure the temp file is removed and `path` is left untouched.
    Raises OSError from the file system.
    """
    temp = path.with_name(f".{path.name}{TEMP_MARK}{uuid.uuid4().hex}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
