"""What every file an update level touches must hold before and after it, without checksums.

Real descriptors carry no per-file checksums (DESIGN §6). The content a modified or removed
file has before level L is known anyway: it is what the newest earlier level's payload
put there, or, when no level between the pack's own level and L touched it, what the
product pack holds. Digests of pack members and of package payloads are computed once per
process (keyed by path, size, mtime and inode), so each artifact is hashed at most once.
"""

from __future__ import annotations

from pathlib import Path

from providers.product.archive import ArchiveError, member_digests
from providers.product.artifact_files import artifact_stamp
from providers.product.descriptors import ProductChanges
from providers.product.package_index import IndexedPackage, ProductUpdates


class Unknown:
    """The content cannot be known (a level in between is missing or unreadable)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
Expected = str | None | Unknown
_DIGESTS: dict[tuple[str, int, int, int, str], str | None] = {}


def zip_digests(archive: Path, members: dict[str, str]) -> dict[str, str | None]:
    """rel -> ``sha256:…`` (None: not in the archive) for `members` (rel -> member name),
    cached. Raises ArchiveError for an unreadable archive."""
    base = artifact_stamp(archive)
    if base is None:
        raise ArchiveError(f"{archive}: cannot be read; check the path")
    missing = {rel: name for rel, name in members.items() if (*base, name) not in _DIGESTS}
    if missing:
        found = member_digests(archive, set(missing.values()))
        if len(_DIGESTS) > 500_000:
            _DIGESTS.clear()
        for name in missing.values():
            _DIGESTS[(*base, name)] = found.get(name)
    return {rel: _DIGESTS.get((*base, name)) for rel, name in members.items()}


def payload_digests(package: IndexedPackage, changes: ProductChanges) -> dict[str, str | None]:
    """rel -> digest of the payload file the package carries for each added or modified
    file of `changes` (None: listed but not carried)."""
    wanted = {rel: package.layout.member(rel) for rel in (*changes.added, *changes.modified)}
    return zip_digests(Path(package.path), wanted)


class LevelChain:
    """The expected content of home files level by level, for one product.

    `pack` is the product pack (top folder `top`) at update level `pack_level`;
    `updates` the indexed updates folder.
    """

    def __init__(self, pack: Path, top: str, pack_level: int, updates: ProductUpdates) -> None:
        self.pack, self.top, self.pack_level, self.updates = pack, top, pack_level, updates

    def _changes(self, level: int) -> tuple[IndexedPackage, ProductChanges] | None:
        package = self.updates.levels.get(level)
        changes = self.updates.changes(level)
        return (package, changes) if package is not None and changes is not None else None

    def after(self, level: int, path: str) -> Expected:
        """What `path` holds right after `level` (UNKNOWN when `level` does not touch it or
        its package is missing)."""
        found = self._changes(level)
        if found is None:
            return UNKNOWN
        package, changes = found
        if path in changes.removed:
            return None
        if path in changes.added or path in changes.modified:
            return payload_digests(package, changes).get(path)
        return UNKNOWN

    def before(self, level: int, paths: list[str]) -> dict[str, Expected]:
        """What each of `paths` holds just before `level`: the newest earlier level that
        touched it, else the pack. UNKNOWN where a level in between is missing.
        Raises ArchiveError when the pack or a package cannot be read."""
        out: dict[str, Expected] = {}
        todo = list(paths)
        for k in range(level - 1, max(self.pack_level, 0), -1):
            if not todo:
                break
            found = self._changes(k)
            if found is None:
                out.update({p: UNKNOWN for p in todo})
                return out
            package, changes = found
            touched = set(changes.added) | set(changes.modified) | set(changes.removed)
            hits = [p for p in todo if p in touched]
            digests = payload_digests(package, changes) if hits else {}
            for p in hits:
                out[p] = None if p in changes.removed else digests.get(p)
            todo = [p for p in todo if p not in touched]
        if todo:
            prefix = f"{self.top}/" if self.top else ""
            out.update(zip_digests(self.pack, {p: prefix + p for p in todo}))
        return out
