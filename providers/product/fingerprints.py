"""File digests with a stat-based cache: unchanged files cost one `stat`, not a re-hash.

The stat and the hash both happen on the file's host through its transport; only the
digest travels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

from engine.contracts.models import FileFingerprint
from providers.hosts.base import Transport


def fingerprint(
    t: Transport, path: PurePosixPath, cache: Mapping[str, FileFingerprint], key: str,
    *, resolve: Callable[[PurePosixPath], PurePosixPath] | None = None,
) -> FileFingerprint | None:
    """The file's fingerprint, re-hashing (`Transport.sha256`) only when size, mtime or
    inode changed since `cache[key]`. Returns None when no regular file is there.

    A link is followed only through `resolve` (which proves its target stays where it
    must and raises otherwise); without it a link counts as no file.
    """
    st = t.stat(path)
    if st is not None and st.kind == "link" and resolve is not None:
        path = resolve(path)
        st = t.stat(path)
    if st is None or st.kind != "file":
        return None
    old = cache.get(key)
    if old is not None and (old.size, old.mtime_ns, old.inode) == (st.size, st.mtime_ns,
                                                                    st.inode):
        return old
    return FileFingerprint(size=st.size, mtime_ns=st.mtime_ns, inode=st.inode,
                           sha256=t.sha256(path))
