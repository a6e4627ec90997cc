"""File digests with a stat-based cache: unchanged files cost one `stat`, not a re-hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from engine.contracts.models import FileFingerprint

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """`sha256:<hex>` of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def fingerprint(
    path: Path, cache: Mapping[str, FileFingerprint], key: str
) -> FileFingerprint | None:
    """The file's fingerprint, re-hashing only when size, mtime or inode changed.

    Returns None when the file does not exist.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    old = cache.get(key)
    if old is not None and (old.size, old.mtime_ns, old.inode) == (st.st_size, st.st_mtime_ns,
                                                                    st.st_ino):
        return old
    return FileFingerprint(size=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino,
                           sha256=sha256_file(path))
