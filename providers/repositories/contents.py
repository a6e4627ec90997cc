"""What one snapshot holds: its parts, and every member of a paths snapshot's tar part.

The tar part is untrusted: member names are checked with `safe_member_name`, and the
stream is read to its end so the repository's sha256 check runs (a changed stored byte
raises IntegrityError).
"""

from __future__ import annotations

import hashlib
import tarfile
from typing import Any

from engine.contracts.facts import PartFacts, SnapshotContents, SnapshotEntry, SnapshotInfo
from providers.repositories.errors import RepositoryError
from providers.repositories.streams import CHUNK
from safefs.pathsafety import UnsafePathError, safe_member_name

Repository = Any  # providers.repositories.base.Repository (kept out of the import graph)


def snapshot_contents(repo: Repository, info: SnapshotInfo) -> SnapshotContents:
    """The parts of `info`'s snapshot in `repo` and, for a tar part, its members sorted
    by path. Raises SnapshotNotFound, IntegrityError or RepositoryError (unsafe tar)."""
    manifest = repo.authenticate(repo.get_manifest(info.series, info.id))
    parts = tuple(PartFacts(name=p.name, kind=p.kind, size=p.size, raw_size=p.raw_size,
                            sha256=p.sha256) for p in manifest.parts)
    entries: list[SnapshotEntry] = []
    for part in manifest.parts:
        if part.kind == "tar":
            entries += _members(repo, info, part.name)
    return SnapshotContents(snapshot=info, parts=parts,
                            entries=tuple(sorted(entries, key=lambda e: e.path)))


def _members(repo: Repository, info: SnapshotInfo, part: str) -> list[SnapshotEntry]:
    where = f"repository {repo.name}: snapshot {info.series}/{info.id}: part {part}"
    out: list[SnapshotEntry] = []
    with repo.open_part(info.series, info.id, part) as stream:
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name = safe_member_name(member.name, archive=where).as_posix()
                    entry = _entry(tar, member, name)
                    if entry is not None:
                        out.append(entry)
        except UnsafePathError as exc:
            raise RepositoryError(f"{exc}; the snapshot is not safe to read") from None
        except tarfile.TarError as exc:
            raise RepositoryError(f"{where}: not a readable tar ({exc})") from None
        while stream.read(CHUNK):
            pass
    return out


def _entry(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> SnapshotEntry | None:
    mode = f"0{member.mode & 0o777:o}"
    if member.isdir():
        return SnapshotEntry(path=name, type="dir", mode=mode)
    if member.issym():
        return SnapshotEntry(path=name, type="symlink", mode=mode, target=member.linkname)
    if not member.isreg():
        return None
    digest = hashlib.sha256()
    handle = tar.extractfile(member)
    while handle is not None and (chunk := handle.read(CHUNK)):
        digest.update(chunk)
    return SnapshotEntry(path=name, type="file", size=member.size, mode=mode,
                         sha256=digest.hexdigest())
