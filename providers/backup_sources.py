"""Paths as a backup source: back declared paths up as a tar part, and restore them safely.

The paths live on a host (a server's home, or the controller's own folders) and are read
and written through its transport. Backing up streams `Transport.tar_out` member by
member into the repository, re-checked on the way (links that leave the root and special
files are skipped with a warning). Restoring first re-hashes the whole stored part (a
corrupted byte is found before anything is written), then streams the checked members
into a staging folder on the host (`Transport.tar_in`) and swaps each top-level path into
place by rename; the previous content is removed only after every swap worked.
"""

from __future__ import annotations

import posixpath
import secrets
import tarfile
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from providers.hosts.base import Transport
from providers.hosts.paths import exists, inside, is_dir
from providers.hosts.streams import Copied, copy_members, piped
from providers.repositories.base import PartSource, Repository
from providers.repositories.manifest import Manifest, SnapshotFields
from providers.repositories.streams import CHUNK
from providers.repositories.tarpart import TarStats, top_units
from safefs.pathsafety import UnsafePathError, safe_member_name

DEFAULT_PART = "paths.tar"


class PathsError(Exception):
    """A paths backup or restore was refused or failed; the message says what to do."""


class PathsBackupResult(BaseModel):
    """What a paths backup stored and what it had to skip."""

    model_config = ConfigDict(frozen=True)

    manifest: Manifest
    stats: TarStats
    warnings: tuple[str, ...]


class PathsRestoreResult(BaseModel):
    """What a paths restore put in place."""

    model_config = ConfigDict(frozen=True)

    paths: tuple[str, ...]
    entries: int


def declared_paths(t: Transport, root: PurePosixPath,
                   paths: Sequence[str]) -> list[PurePosixPath]:
    """Check declared paths: relative, no ``..``, parents inside `root` (on host `t`);
    drop nested ones.

    Returns them sorted, without any path that lies inside another one. Raises
    PathsError naming the offending path.
    """
    checked: set[PurePosixPath] = set()
    for raw in paths:
        try:
            rel = safe_member_name(raw, archive=f"declared path under {root}")
            if rel.parent.parts:
                inside(t, root, rel.parent, what=f"declared path under {root}")
        except UnsafePathError as exc:
            raise PathsError(f"{exc}; declare paths relative to the root") from None
        checked.add(rel)
    return sorted(p for p in checked if not any(q in p.parents for q in checked))


class PathsArchiver:
    """Builds the tar part of declared paths; `warnings` and `stats` fill in as it runs."""

    def __init__(self, t: Transport, root: PurePosixPath, paths: Sequence[str], *,
                 part: str = DEFAULT_PART) -> None:
        if not is_dir(t, root):
            raise PathsError(f"backup root {root} is not a directory; check the host root/home")
        self.t = t
        self.root = root
        self.paths = declared_paths(t, root, paths)
        self.part_name = part
        self.warnings: list[str] = []
        self.stats = TarStats(files=0, dirs=0, links=0, bytes=0)

    def _judge_link(self, real_root: PurePosixPath, name: PurePosixPath,
                    linkname: str) -> str | None:
        """Keep a link whose target resolves inside the root (an absolute one made
        relative); None for one that leaves it."""
        real = self.t.realpath(self.root / name)
        if real != real_root and real_root not in real.parents:
            return None
        if linkname.startswith("/"):
            parent = self.t.realpath((self.root / name).parent)
            return posixpath.relpath(str(real), str(parent))
        return linkname

    def _write(self, sink: BinaryIO) -> None:
        self.warnings.clear()
        present = []
        for rel in self.paths:
            if exists(self.t, self.root / rel):
                present.append(rel.as_posix())
            else:
                self.warnings.append(f"{rel.as_posix()}: declared path does not exist; skipped")
        if not present:
            tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT).close()
            self.stats = TarStats(files=0, dirs=0, links=0, bytes=0)
            return
        real_root = self.t.realpath(self.root)
        with self.t.tar_out(self.root, present) as source:
            done = copy_members(source, sink, label=f"{self.t.host}: {self.root}",
                                judge_link=lambda n, ln: self._judge_link(real_root, n, ln),
                                strict=False)
        self.warnings.extend(done.warnings)
        self.stats = TarStats(files=done.files, dirs=done.dirs, links=done.links,
                              bytes=done.bytes)

    def part(self) -> PartSource:
        """Return the PartSource that streams the tar when the repository asks for it."""
        return PartSource(name=self.part_name, kind="tar", write=self._write)


def backup_paths(
    repo: Repository,
    series: str,
    snapshot_id: str,
    t: Transport,
    root: PurePosixPath,
    paths: Sequence[str],
    fields: SnapshotFields,
    *,
    part: str = DEFAULT_PART,
) -> PathsBackupResult:
    """Back up `paths` under `root` on host `t` into `repo` as one tar part of a new
    snapshot.

    Returns the manifest, counts and warnings (skipped links pointing outside, special
    files, missing declared paths). Raises PathsError for bad declared paths, HostError
    when the host cannot stream them, RepositoryError from the repository.
    """
    archiver = PathsArchiver(t, root, paths, part=part)
    manifest = repo.put(series, snapshot_id, [archiver.part()], fields)
    return PathsBackupResult(
        manifest=manifest, stats=archiver.stats, warnings=tuple(archiver.warnings)
    )


def _only(only: Sequence[str] | None, where: str) -> list[PurePosixPath] | None:
    if only is None:
        return None
    try:
        return [safe_member_name(o, archive=f"{where}: only") for o in only]
    except UnsafePathError as exc:
        raise PathsError(str(exc)) from None


def _place(t: Transport, dest_root: PurePosixPath, unit: PurePosixPath,
           where: str) -> PurePosixPath:
    """The in-place path for a unit; its parent must resolve inside `dest_root`."""
    parent = inside(t, dest_root, unit.parent, what=where) if unit.parent.parts else dest_root
    t.mkdir(parent)
    return parent / unit.name


def _swap_in(t: Transport, staging: PurePosixPath, dest_root: PurePosixPath,
             units: list[PurePosixPath], where: str) -> None:
    """Move each unit from staging into place; on failure put everything back as it was."""
    aside: list[tuple[PurePosixPath, PurePosixPath]] = []
    placed: list[tuple[PurePosixPath, PurePosixPath]] = []
    try:
        for unit in units:
            final = _place(t, dest_root, unit, where)
            if exists(t, final):
                old = final.with_name(f".{final.name}.drydock-old-{secrets.token_hex(4)}")
                t.rename(final, old)
                aside.append((final, old))
            fresh = staging.joinpath(*unit.parts)
            t.rename(fresh, final)
            placed.append((final, fresh))
    except BaseException:
        for final, fresh in reversed(placed):
            t.rename(final, fresh)
        for final, old in reversed(aside):
            t.rename(old, final)
        raise
    for _final, old in aside:
        t.remove_tree(old)


def restore_paths(
    repo: Repository,
    series: str,
    snapshot_id: str,
    part: str,
    t: Transport,
    dest_root: PurePosixPath,
    *,
    only: list[str] | None = None,
    select: Callable[[str], bool] | None = None,
) -> PathsRestoreResult:
    """Restore a tar part under `dest_root` on host `t`, replacing each top-level path it
    holds.

    Takes the snapshot coordinates, the host and destination root and optionally the
    paths to restore (default: all). Verifies the stored part's sha256 before writing
    anything, streams it into a staging folder on the host, then swaps paths into place.
    Returns the paths replaced. Raises IntegrityError (stored bytes changed),
    SnapshotNotFound, PathsError (unsafe or malformed archive, unknown `only` path),
    HostError; the target is left untouched.
    """
    info = repo.ensure_intact(series, snapshot_id, part)
    where = f"repository {repo.name}: snapshot {series}/{snapshot_id}: part {part}"
    if info.kind != "tar":
        raise PathsError(f"{where}: is a {info.kind} part, not a tar of paths")
    wanted = _only(only, where)
    t.mkdir(dest_root)
    free = t.free_bytes(dest_root)
    if info.raw_size > free:
        raise PathsError(f"{where}: needs {info.raw_size} bytes but {dest_root} has {free} "
                         "free; nothing was written (free space or restore elsewhere)")
    staging = dest_root / f".drydock-restore-{secrets.token_hex(4)}"
    copied = Copied()

    def produce(sink: BinaryIO) -> None:
        with repo.open_part(series, snapshot_id, part) as stream:
            done = copy_members(stream, sink, label=where, only=wanted, select=select)
            while stream.read(CHUNK):
                pass
        copied.names = done.names

    try:
        piped(produce, lambda stream: t.tar_in(staging, stream))
        names = copied.names
        units = top_units(names)
        missing = [o.as_posix() for o in wanted or [] if not any(
            n == o or o in n.parents for n in names)]
        if missing:
            raise PathsError(f"{where}: does not hold {', '.join(missing)}; see its listing")
        if select is not None and not names:
            raise PathsError(f"{where}: --include/--exclude select nothing in it; 'drydock "
                             "backups ls' shows its paths")
        _swap_in(t, staging, dest_root, units, where)
    except UnsafePathError as exc:
        raise PathsError(f"{exc}; the snapshot is not safe to restore") from None
    except tarfile.TarError as exc:
        raise PathsError(f"{where}: not a readable tar ({exc})") from None
    finally:
        t.remove_tree(staging)
    return PathsRestoreResult(paths=tuple(u.as_posix() for u in units), entries=len(names))
