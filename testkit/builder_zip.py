"""Deterministic zip writing and atomic file output for the fixture builder."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

FIXED_TIME = (2024, 1, 1, 0, 0, 0)
_UNIX = 3


class Entry(BaseModel):
    """One file to put in an archive: relative POSIX path, bytes and execute bit."""

    model_config = ConfigDict(frozen=True)

    path: str
    data: bytes
    executable: bool = False


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    """A ZipInfo with a fixed timestamp and explicit Unix mode bits."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = _UNIX
    info.external_attr = mode << 16
    if stat.S_ISDIR(mode):
        info.external_attr |= 0x10
    return info


def _dirs_of(paths: Iterable[str]) -> list[str]:
    """Every parent folder of `paths`, sorted so parents come before children."""
    dirs: set[str] = set()
    for path in paths:
        for parent in PurePosixPath(path).parents:
            if parent.as_posix() != ".":
                dirs.add(parent.as_posix())
    return sorted(dirs)


def zip_bytes(entries: Iterable[Entry], *, empty_dirs: Iterable[str] = ()) -> bytes:
    """Return the bytes of a zip holding `entries`, identical for identical input.

    Directory entries are written for every parent folder and for `empty_dirs`; files
    follow in path order. Timestamps are fixed and modes explicit (0644, 0755 for
    executables and folders), so two builds give the same bytes.
    """
    files = sorted(entries, key=lambda e: e.path)
    dirs = sorted(set(_dirs_of(e.path for e in files)) | set(_dirs_of(
        f"{d.rstrip('/')}/x" for d in empty_dirs)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=6) as zf:
        for folder in dirs:
            zf.writestr(_info(f"{folder}/", stat.S_IFDIR | 0o755), b"")
        for entry in files:
            mode = stat.S_IFREG | (0o755 if entry.executable else 0o644)
            zf.writestr(_info(entry.path, mode), entry.data)
    return buffer.getvalue()


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly those bytes.

    Writes a temporary file beside `path`, fsyncs it and renames it into place, so a
    reader never sees a half-written file. Returns True when the file was (re)written.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
