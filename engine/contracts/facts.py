"""Typed facts the providers' query ports report and the restore and recovery planners read.

Each is a frozen model: a snapshot as its repository describes it, what re-reading a
snapshot found, a change backup on a server's host, the bytes of a server's files found
again, and what a product pack installs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from engine.contracts.models import Frozen


class SnapshotInfo(Frozen):
    """A snapshot as a repository describes it (its manifest), for planning restores."""

    repository: str
    series: str
    id: str
    created: AwareDatetime
    kind: Literal["database", "server", "paths", "host"]
    address: str
    engine: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    size: int = 0
    tags: tuple[str, ...] = ()
    raw_size: int = 0
    """Bytes of the parts before compression (0 when the store does not say)."""
    parts: int = 0

    @property
    def label(self) -> str:
        """`repository:series/id`."""
        return f"{self.repository}:{self.series}/{self.id}"


class RepositoryListing(Frozen):
    """Every complete snapshot one repository holds (`exists` False: its folder is gone)."""

    repository: str
    exists: bool = True
    snapshots: tuple[SnapshotInfo, ...] = ()


class SnapshotInspection(Frozen):
    """What re-reading one snapshot found.

    `verified` is None when the parts were not re-hashed; `files` maps each asked-for
    managed file to the `sha256:<hex>` of its bytes in the snapshot.
    """

    verified: bool | None = None
    problem: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


class ChangeBackup(Frozen):
    """One complete change backup of a server: where it is, its level, its patch folders."""

    server: str
    id: str
    dir: str
    level: int
    patches: tuple[str, ...]
    has_patches: bool


class FoundFile(Frozen):
    """Bytes with the wanted digest, as text, and where they were found."""

    source: str
    text: str


class PackFacts(Frozen):
    """What a product pack installs: its `updates/product.txt` and its update level; the
    Carbon kernel it runs on (None: unknown) and, by level, the update packages its
    updates folder holds for it (found by descriptor, not by file name)."""

    product: str
    update_level: int
    platform_version: str | None = None
    packages: dict[int, str] = Field(default_factory=dict)


class PartFacts(Frozen):
    """One stored part of a snapshot, as its manifest describes it."""

    name: str
    kind: str
    size: int
    raw_size: int
    sha256: str


class SnapshotEntry(Frozen):
    """One member of a paths snapshot: its kind, size, mode and (files) sha256."""

    path: str
    type: Literal["file", "dir", "symlink"]
    size: int = 0
    mode: str = "0644"
    sha256: str | None = None
    target: str | None = None


class SnapshotContents(Frozen):
    """What one snapshot holds: its parts, and the members of its tar part (none for a
    database dump)."""

    snapshot: SnapshotInfo
    parts: tuple[PartFacts, ...] = ()
    entries: tuple[SnapshotEntry, ...] = ()


class RepositoryProblem(Frozen):
    """One thing `backups check` found wrong in a repository."""

    kind: Literal["manifest", "part", "orphan", "unfinished"]
    where: str
    problem: str


class RepositoryCheck(Frozen):
    """The result of checking a whole repository (`read_data`: every part re-hashed)."""

    repository: str
    read_data: bool = False
    snapshots: int = 0
    parts: int = 0
    bytes_read: int = 0
    problems: tuple[RepositoryProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems
