"""Controller-side artifact files (packs, update packages, patch archives): the stat key
their cached reads are kept under, presence, their digest, and the names in their
folders."""

from __future__ import annotations

import hashlib
from pathlib import Path


def artifact_stamp(path: Path) -> tuple[str, int, int, int] | None:
    """(path, size, mtime_ns, inode) of a controller-side artifact, the key its cached
    reads are kept under; None when it cannot be stat'ed."""
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime_ns, st.st_ino


def artifact_present(path: Path) -> bool:
    """True when a controller-side artifact (pack, package, patch archive) is a file."""
    return path.is_file()


def artifact_names(folder: Path) -> list[str]:
    """The file names in a controller-side artifact folder (updates, patches); [] when it
    cannot be listed."""
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError:
        return []


def artifact_sha256(path: Path) -> str:
    """The hex sha256 of a controller-side artifact's bytes. Raises OSError."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
