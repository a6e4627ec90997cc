"""Read snapshots for restores: describe a repository's snapshots, find a snapshot's data
part, and hash (or read) the files a tar part holds.

Tar parts are untrusted: member names are checked with `safe_member_name` and every
stream is read to its end so the repository's sha256 check runs.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Sequence
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from engine.contracts.facts import SnapshotInfo
from providers.repositories.base import Repository, SnapshotStore
from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import Manifest, PartInfo
from providers.repositories.streams import CHUNK
from safefs.pathsafety import UnsafePathError, safe_member_name

MAX_TEXT = 1 << 20
DATABASE_PARTS = ("sqlite", "dump")


class SnapshotReadError(RepositoryError):
    """A snapshot's part is not what a restore needs (no data part, not a tar, unsafe)."""


class Member(BaseModel):
    """One regular file inside a tar part: its sha256 (hex), size and, if asked, bytes."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    size: int
    data: bytes | None = None


def describe(manifest: Manifest, repository: str) -> SnapshotInfo:
    """The SnapshotInfo of a manifest found in `repository`."""
    return SnapshotInfo(repository=repository, series=manifest.series, id=manifest.id,
                        created=manifest.created, kind=manifest.source.kind,
                        address=manifest.source.address, engine=manifest.source.engine,
                        facts=dict(manifest.source.facts), size=manifest.size,
                        tags=manifest.tags, raw_size=sum(p.raw_size for p in manifest.parts),
                        parts=len(manifest.parts))


def list_snapshots(repo: SnapshotStore, series: str | None = None) -> list[SnapshotInfo]:
    """Every complete snapshot of `repo` (of `series` if given), oldest first."""
    return [describe(m, repo.name) for m in repo.list(series)]


def data_part(repo: Repository, series: str, snapshot_id: str) -> PartInfo:
    """The part a restore reads: the tar of a paths snapshot, the dump of a database one.

    Raises SnapshotNotFound, or SnapshotReadError when there is no single such part.
    """
    manifest = repo.get_manifest(series, snapshot_id)
    wanted = DATABASE_PARTS if manifest.source.kind == "database" else ("tar",)
    parts = [p for p in manifest.parts if p.kind in wanted]
    if len(parts) != 1:
        raise SnapshotReadError(f"repository {repo.name}: snapshot {series}/{snapshot_id} has "
                                f"{len(parts)} {'/'.join(wanted)} parts, expected one")
    return parts[0]


def _under(name: PurePosixPath, wanted: Sequence[PurePosixPath] | None) -> bool:
    return wanted is None or any(name == w or w in name.parents for w in wanted)


def tar_members(repo: Repository, series: str, snapshot_id: str,
                wanted: Sequence[str] | None = None, *, read: bool = False) -> dict[str, Member]:
    """The regular files of a snapshot's tar part under `wanted` paths (all if None).

    Returns relative path -> Member (with `data` when `read` and the file is at most
    1 MiB). The whole part is read, so a changed stored byte raises IntegrityError.
    Raises SnapshotReadError for a part that is not a tar or holds unsafe names.
    """
    info = data_part(repo, series, snapshot_id)
    where = f"repository {repo.name}: snapshot {series}/{snapshot_id}: part {info.name}"
    if info.kind != "tar":
        raise SnapshotReadError(f"{where}: is a {info.kind} part, not a tar of paths")
    try:
        paths = None if wanted is None else [safe_member_name(w, archive=where) for w in wanted]
    except UnsafePathError as exc:
        raise SnapshotReadError(str(exc)) from None
    out: dict[str, Member] = {}
    with repo.open_part(series, snapshot_id, info.name) as stream:
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name = safe_member_name(member.name, archive=where)
                    if not member.isreg() or not _under(name, paths):
                        continue
                    out[name.as_posix()] = _member(tar, member, read)
        except UnsafePathError as exc:
            raise SnapshotReadError(f"{exc}; the snapshot is not safe to read") from None
        except tarfile.TarError as exc:
            raise SnapshotReadError(f"{where}: not a readable tar ({exc})") from None
        while stream.read(CHUNK):
            pass
    return out


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo, read: bool) -> Member:
    handle = tar.extractfile(member)
    digest = hashlib.sha256()
    keep = read and member.size <= MAX_TEXT
    chunks: list[bytes] = []
    while handle is not None and (chunk := handle.read(CHUNK)):
        digest.update(chunk)
        if keep:
            chunks.append(chunk)
    return Member(sha256=digest.hexdigest(), size=member.size,
                  data=b"".join(chunks) if keep else None)


def tar_tops(repo: Repository, series: str, snapshot_id: str,
             candidates: Sequence[str]) -> list[str]:
    """Which of `candidates` (relative paths) the snapshot's tar holds anything under."""
    names = tar_members(repo, series, snapshot_id, candidates)
    return [c for c in candidates
            if any(n == c or n.startswith(c.rstrip("/") + "/") for n in names)]
