"""Content-addressed reuse of patch folders within a run: verify once, link the rest.

Installing one patch into a thousand homes used to read, check and stream its archive a
thousand times. A run's `PatchSources` remembers, by the archive's sha256, that the
archive verified, and per host the first patch folder the run installed from it (with
the names and sizes of its files). The next install of the same archive on that host
hard-links that folder's files (`Transport.copy_tree(link=True)`: copies where the file
system cannot link) into the new home's staging folder, and checks that the copy holds
exactly the remembered files before it is renamed into place; anything else (the source
moved, a file changed size) falls back to a full install from the archive.

Patch jars are never written in place (drydock replaces files by rename, and a patch is
removed or replaced as a folder), which is what makes sharing their inodes across homes
safe; it is the contract `copy_tree(link=True)` states.
"""

from __future__ import annotations

import threading
from pathlib import Path, PurePosixPath

from providers.hosts.base import Transport
from providers.product.artifact_files import artifact_sha256, artifact_stamp

Listing = tuple[tuple[str, int], ...]
"""A folder's regular files: (path relative to the folder, size), sorted."""


def listing(t: Transport, folder: PurePosixPath) -> Listing:
    """The regular files below `folder` with their sizes (one walk on the host)."""
    return tuple(sorted((str(rel), st.size if st.kind == "file" else -1)
                        for rel, st in t.walk(folder) if st.kind != "dir"))


class PatchSources:
    """One run's verified archives and, per host, the folder to link each patch from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int, int], str] = {}
        self._verified: set[str] = set()
        self._folders: dict[tuple[str, str], tuple[PurePosixPath, Listing]] = {}

    def digest(self, archive: Path) -> str:
        """The archive's sha256, computed once per file identity (path, size, mtime,
        inode) in the run."""
        ident = artifact_stamp(archive)
        with self._lock:
            known = self._digests.get(ident) if ident is not None else None
        if known is not None:
            return known
        found = artifact_sha256(archive)
        if ident is not None:
            with self._lock:
                self._digests[ident] = found
        return found

    def verified(self, digest: str) -> bool:
        with self._lock:
            return digest in self._verified

    def mark_verified(self, digest: str) -> None:
        with self._lock:
            self._verified.add(digest)

    def source(self, host: str, key: str) -> tuple[PurePosixPath, Listing] | None:
        """The folder (and its files) this run installed `key` into on `host`."""
        with self._lock:
            return self._folders.get((host, key))

    def remember(self, host: str, key: str, folder: PurePosixPath, files: Listing) -> None:
        with self._lock:
            self._folders.setdefault((host, key), (folder, files))

    def forget(self, host: str, key: str) -> None:
        with self._lock:
            self._folders.pop((host, key), None)

    def clear(self) -> None:
        """End of a run: nothing is reused across runs (the homes may change between)."""
        with self._lock:
            self._digests.clear()
            self._verified.clear()
            self._folders.clear()
