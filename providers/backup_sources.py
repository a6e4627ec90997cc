"""Paths as a backup source: back declared paths up as a tar part, and restore them safely.

Restoring first re-hashes the whole stored part (a corrupted byte is found before anything
is written), then extracts into a staging directory beside the target and swaps each
top-level path into place; the previous content is removed only after every swap worked.
"""

from __future__ import annotations

import secrets
import shutil
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from providers.pathsafety import UnsafePathError, contained, safe_member_name
from providers.repositories.base import PartSource, Repository
from providers.repositories.manifest import Manifest, SnapshotFields
from providers.repositories.streams import CHUNK
from providers.repositories.tarpart import TarStats, extract_tar, top_units, write_tree_tar

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


def declared_paths(root: Path, paths: Sequence[str]) -> list[PurePosixPath]:
    """Check declared paths: relative, no ``..``, parents inside `root`; drop nested ones.

    Returns them sorted, without any path that lies inside another one. Raises
    PathsError naming the offending path.
    """
    checked: set[PurePosixPath] = set()
    for raw in paths:
        try:
            rel = safe_member_name(raw, archive=f"declared path under {root}")
            if rel.parent.parts:
                contained(root, rel.parent, what=f"declared path under {root}")
        except UnsafePathError as exc:
            raise PathsError(f"{exc}; declare paths relative to the root") from None
        checked.add(rel)
    return sorted(p for p in checked if not any(q in p.parents for q in checked))


class PathsArchiver:
    """Builds the tar part of declared paths; `warnings` and `stats` fill in as it runs."""

    def __init__(self, root: Path, paths: Sequence[str], *, part: str = DEFAULT_PART) -> None:
        if not root.is_dir():
            raise PathsError(f"backup root {root} is not a directory; check the host root/home")
        self.root = root
        self.paths = declared_paths(root, paths)
        self.part_name = part
        self.warnings: list[str] = []
        self.stats = TarStats(files=0, dirs=0, links=0, bytes=0)

    def _write(self, sink: BinaryIO) -> None:
        self.warnings.clear()
        self.stats = write_tree_tar(sink, self.root, self.paths, self.warnings)

    def part(self) -> PartSource:
        """Return the PartSource that streams the tar when the repository asks for it."""
        return PartSource(name=self.part_name, kind="tar", write=self._write)


def backup_paths(
    repo: Repository,
    series: str,
    snapshot_id: str,
    root: Path,
    paths: Sequence[str],
    fields: SnapshotFields,
    *,
    part: str = DEFAULT_PART,
) -> PathsBackupResult:
    """Back up `paths` under `root` into `repo` as one tar part of a new snapshot.

    Returns the manifest, counts and warnings (skipped links pointing outside, special
    files, missing declared paths). Raises PathsError for bad declared paths,
    TreeReadError when a file cannot be read, RepositoryError from the repository.
    """
    archiver = PathsArchiver(root, paths, part=part)
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


def _place(dest_root: Path, unit: PurePosixPath, where: str) -> Path:
    """The in-place path for a unit; its parent must resolve inside `dest_root`."""
    parent = contained(dest_root, unit.parent, what=where) if unit.parent.parts else dest_root
    parent.mkdir(parents=True, exist_ok=True)
    return parent / unit.name


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _swap_in(staging: Path, dest_root: Path, units: list[PurePosixPath], where: str) -> None:
    """Move each unit from staging into place; on failure put everything back as it was."""
    aside: list[tuple[Path, Path]] = []
    placed: list[tuple[Path, Path]] = []
    try:
        for unit in units:
            final = _place(dest_root, unit, where)
            if final.is_symlink() or final.exists():
                old = final.with_name(f".{final.name}.drydock-old-{secrets.token_hex(4)}")
                final.rename(old)
                aside.append((final, old))
            fresh = staging.joinpath(*unit.parts)
            fresh.rename(final)
            placed.append((final, fresh))
    except BaseException:
        for final, fresh in reversed(placed):
            final.rename(fresh)
        for final, old in reversed(aside):
            old.rename(final)
        raise
    for _final, old in aside:
        _remove(old)


def restore_paths(
    repo: Repository,
    series: str,
    snapshot_id: str,
    part: str,
    dest_root: Path,
    *,
    only: list[str] | None = None,
) -> PathsRestoreResult:
    """Restore a tar part under `dest_root`, replacing each top-level path it holds.

    Takes the snapshot coordinates, the destination root and optionally the paths to
    restore (default: all). Verifies the stored part's sha256 before writing anything,
    extracts into a staging directory, then swaps paths into place. Returns the paths
    replaced. Raises IntegrityError (stored bytes changed), SnapshotNotFound, PathsError
    (unsafe or malformed archive, unknown `only` path); the target is left untouched.
    """
    info = repo.ensure_intact(series, snapshot_id, part)
    where = f"repository {repo.name}: snapshot {series}/{snapshot_id}: part {part}"
    if info.kind != "tar":
        raise PathsError(f"{where}: is a {info.kind} part, not a tar of paths")
    wanted = _only(only, where)
    dest_root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(dest_root).free
    if info.raw_size > free:
        raise PathsError(f"{where}: needs {info.raw_size} bytes but {dest_root} has {free} "
                         "free; nothing was written (free space or restore elsewhere)")
    staging = dest_root / f".drydock-restore-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        with repo.open_part(series, snapshot_id, part) as stream:
            names = extract_tar(stream, staging, only=wanted, archive=where)
            while stream.read(CHUNK):
                pass
        units = top_units(names)
        missing = [o.as_posix() for o in wanted or [] if not any(
            n == o or o in n.parents for n in names)]
        if missing:
            raise PathsError(f"{where}: does not hold {', '.join(missing)}; see its listing")
        _swap_in(staging, dest_root, units, where)
    except UnsafePathError as exc:
        raise PathsError(f"{exc}; the snapshot is not safe to restore") from None
    except tarfile.TarError as exc:
        raise PathsError(f"{where}: not a readable tar ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PathsRestoreResult(paths=tuple(u.as_posix() for u in units), entries=len(names))
