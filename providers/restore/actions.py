"""Restore a snapshot into a database, a server home or a folder (verified before writing).

Both restores re-hash the stored part before the first byte is written: a database loads
into a staging copy that is swapped in only when the load worked (see
`DatabaseEngine.restore`), paths are extracted beside the target and swapped in (see
`restore_paths`, on the host the folder is on, through its transport). A folder that
must be empty is refused when it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from engine.contracts.pathfilter import PathFilter
from engine.spec.common import SecretRef
from engine.spec.loader import LoadedSpec
from providers.backup_sources import PathsError, restore_paths
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError
from providers.databases.targets import target_for
from providers.hosts.base import Transport
from providers.hosts.paths import exists, is_empty_dir
from providers.repositories.base import Repository
from providers.restore.snapshots import SnapshotReadError, data_part, tar_tops


class RestoreRefused(ValueError):
    """The restore would overwrite something it must not; the message says what to do."""


class RestoredPaths(BaseModel):
    """What a paths restore put in place."""

    model_config = ConfigDict(frozen=True)

    paths: tuple[str, ...]
    entries: int
    skipped: tuple[str, ...] = ()


def _same_engine(a: str | None, b: str) -> bool:
    norm = {"mariadb": "mysql", "postgresql": "postgres"}
    return a is None or norm.get(a, a) == norm.get(b, b)


def restore_database(spec: LoadedSpec, resolve: Callable[[SecretRef], str], repo: Repository,
                     series: str, snapshot_id: str, database: str, *,
                     replace: bool) -> str:
    """Restore a database snapshot into the declared database `database`.

    Creates it when missing; with `replace`, a database holding objects is replaced by a
    staged copy. Returns a one-line message. Raises RestoreRefused (engine mismatch),
    DatabaseError, RepositoryError (damaged or missing snapshot).
    """
    manifest = repo.get_manifest(series, snapshot_id)
    if manifest.source.kind != "database":
        raise RestoreRefused(f"snapshot {series}/{snapshot_id} holds paths, not a database")
    target = target_for(spec, database, resolve)
    if not _same_engine(manifest.source.engine, target.engine):
        raise RestoreRefused(f"snapshot {series}/{snapshot_id} is a {manifest.source.engine} "
                             f"dump; database {database} is {target.engine}")
    part = data_part(repo, series, snapshot_id)
    engine_for(target.engine).restore_from(repo, series, snapshot_id, part.name, target,
                                           create=True, replace=replace)
    return f"restored snapshot {snapshot_id} ({part.raw_size} bytes) into {target.label}"


def restore_tree(repo: Repository, series: str, snapshot_id: str, t: Transport,
                 dest: PurePosixPath, *, only: Sequence[str] | None = None,
                 require_empty: bool = False,
                 paths: PathFilter | None = None) -> RestoredPaths:
    """Restore a paths snapshot under `dest` on host `t`: everything, or only the `only`
    paths it holds.

    With `paths` (include/exclude patterns) only the files and links they select are
    restored, each beside what is there. With `require_empty`, `dest` must be missing or
    empty. Paths of `only` the snapshot
    does not hold are skipped (and listed). Raises RestoreRefused, PathsError,
    RepositoryError; `dest` is left as it was on failure.
    """
    if require_empty and exists(t, dest) and not is_empty_dir(t, dest):
        raise RestoreRefused(f"{dest} is not an empty folder; restore into an empty or new "
                             "folder so nothing is overwritten")
    part = data_part(repo, series, snapshot_id)
    if part.kind != "tar":
        raise SnapshotReadError(f"snapshot {series}/{snapshot_id} holds a database dump, not "
                                "paths")
    wanted = None
    skipped: tuple[str, ...] = ()
    if only is not None:
        wanted = tar_tops(repo, series, snapshot_id, list(only))
        skipped = tuple(p for p in only if p not in wanted)
        if not wanted:
            return RestoredPaths(paths=(), entries=0, skipped=skipped)
    select = paths.selects if paths is not None and paths.active else None
    done = restore_paths(repo, series, snapshot_id, part.name, t, dest, only=wanted,
                         select=select)
    return RestoredPaths(paths=done.paths, entries=done.entries, skipped=skipped)


__all__ = ["DatabaseError", "PathsError", "RestoreRefused", "RestoredPaths", "restore_database",
           "restore_tree"]
