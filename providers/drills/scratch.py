"""Scratch targets of a drill: a database (SQLite file, PostgreSQL or MariaDB database
created by name) or a folder on a host (the controller's own, or a spec host's, reached
through its transport). A scratch target is only ever torn down when this drill put data
into it: one that already held something is refused and left alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import PurePosixPath
from typing import Any

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseNotEmpty
from providers.hosts.base import Transport
from providers.hosts.paths import exists, is_empty_dir
from providers.repositories.base import Repository
from providers.restore.actions import RestoreRefused, restore_tree
from providers.restore.snapshots import data_part


class Scratch(ABC):
    """Where a drill restores to; `teardown` removes what `restore` put there."""

    label: str = ""

    @abstractmethod
    def restore(self, repo: Repository, series: str, snapshot_id: str) -> None:
        """Restore the snapshot here; raises when the target is taken or the restore fails."""

    @abstractmethod
    def teardown(self) -> None:
        """Remove what the restore created (nothing when it refused to start)."""

    def clear_leftover(self) -> None:
        """Remove what an earlier run of this drill, killed before its teardown, left here
        (called only when the journal says that run started this drill)."""
        raise RestoreRefused(f"scratch {self.label}: an interrupted drill may have left data "
                             "here; remove it by hand")


class ScratchDatabase(Scratch):
    """A scratch database, created by the restore and dropped by the teardown."""

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target
        self.engine = engine_for(target.engine)
        self.label = target.label
        self._loaded = False

    def restore(self, repo: Repository, series: str, snapshot_id: str) -> None:
        """Load the snapshot into a new (or empty) database; refuses one holding objects."""
        part = data_part(repo, series, snapshot_id)
        self._loaded = True
        try:
            self.engine.restore_from(repo, series, snapshot_id, part.name, self.target,
                                     create=True, replace=False)
        except DatabaseNotEmpty as exc:
            self._loaded = False
            raise RestoreRefused(f"scratch {exc}; a drill only restores into an empty scratch "
                                 "target — drop it or name another one") from None

    def query(self, sql: str) -> Any:
        """The first value of `sql` run on the restored database."""
        return self.engine.query_scalar(self.target, sql)

    def teardown(self) -> None:
        """Drop the scratch database (its file for SQLite)."""
        if self._loaded:
            self.engine.drop(self.target)

    def clear_leftover(self) -> None:
        """Drop the database an interrupted drill restored (nothing when there is none)."""
        self.engine.drop(self.target)


class ScratchDirectory(Scratch):
    """A scratch folder: must be missing or empty; removed (or emptied) afterwards."""

    def __init__(self, t: Transport, path: PurePosixPath) -> None:
        self.t = t
        self.path = path
        self.label = f"directory {path}"
        self._created = False
        self._used = False

    def restore(self, repo: Repository, series: str, snapshot_id: str) -> None:
        """Restore every path of the snapshot into the folder."""
        if exists(self.t, self.path) and not is_empty_dir(self.t, self.path):
            raise RestoreRefused(f"scratch folder {self.path} is not empty; a drill only "
                                 "restores into an empty scratch folder — empty it or name "
                                 "another one")
        self._created = not exists(self.t, self.path)
        self._used = True
        restore_tree(repo, series, snapshot_id, self.t, self.path, require_empty=True)

    def clear_leftover(self) -> None:
        """Remove the folder an interrupted drill restored into."""
        self.t.remove_tree(self.path)

    def teardown(self) -> None:
        """Remove the folder when the drill created it, else empty it again."""
        if not self._used or not exists(self.t, self.path):
            return
        if self._created:
            self.t.remove_tree(self.path)
            return
        for child in self.t.list_dir(self.path):
            self.t.remove_tree(self.path / child.name)
