"""Query ports: the typed, read-only questions planners ask the world that are not resources.

A refresh observes resources; everything else a restore, a recovery or the catalog
commands need to know (a repository's snapshots, a snapshot's parts, a change backup, the
bytes a server's files once had, a pack's level) is asked through one of these ports. A
provider serves a port by subclassing it; the registry finds the one provider per port.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from engine.contracts.catalog import SeriesCatalog
from engine.contracts.facts import (
    ChangeBackup,
    FoundFile,
    PackFacts,
    RepositoryCheck,
    RepositoryListing,
    SnapshotContents,
    SnapshotInfo,
    SnapshotInspection,
)
from engine.spec.loader import LoadedSpec


class QueryFailed(Exception):
    """A query could not be answered; the message is one line naming what and why."""


class CatalogPort(ABC):
    """The snapshot catalog of a backup policy, read from its repositories alone."""

    @abstractmethod
    def read_catalog(self, spec: LoadedSpec, series: str) -> SeriesCatalog:
        """Every snapshot of `series` in its policy's repository and copies (I/O)."""


class SnapshotPort(ABC):
    """Listings of repositories and inspection of one snapshot."""

    @abstractmethod
    def list_repository(self, spec: LoadedSpec, repository: str) -> RepositoryListing:
        """Every complete snapshot in `repository` (I/O)."""

    @abstractmethod
    def inspect_snapshot(self, spec: LoadedSpec, snapshot: SnapshotInfo, *,
                         files: Sequence[str] = (), verify: bool = False) -> SnapshotInspection:
        """Re-hash the parts (when `verify`) and digest `files` as the snapshot holds them."""


class ContentsPort(ABC):
    """What a snapshot holds, and the health of a whole repository."""

    @abstractmethod
    def snapshot_contents(self, spec: LoadedSpec, snapshot: SnapshotInfo) -> SnapshotContents:
        """The parts and (for paths) the members of `snapshot`, read and checked (I/O)."""

    @abstractmethod
    def check_repository(self, spec: LoadedSpec, repository: str, *,
                         read_data: bool = False) -> RepositoryCheck:
        """Every manifest, part and folder of `repository` checked; parts re-hashed when
        `read_data` (I/O)."""


class ServerFilesPort(ABC):
    """The exact bytes a server's managed files had, found in its backups."""

    @abstractmethod
    def find_server_files(self, spec: LoadedSpec, server: str,
                          wanted: Mapping[str, str]) -> dict[str, FoundFile]:
        """Path -> found bytes for each wanted `path: sha256:<hex>` that exists somewhere."""


class PackPort(ABC):
    """What a product's pack installs."""

    @abstractmethod
    def pack_facts(self, spec: LoadedSpec, product: str) -> PackFacts:
        """The product and update level the pack of `product` installs (I/O)."""


class ChangeBackupPort(ABC):
    """Change backups kept on a server's host."""

    @abstractmethod
    def change_backup(self, spec: LoadedSpec, server: str, backup_id: str) -> ChangeBackup:
        """The change backup `backup_id` (a folder name or `latest`) of `server`."""


PORTS: tuple[type, ...] = (CatalogPort, SnapshotPort, ServerFilesPort, PackPort,
                           ChangeBackupPort, ContentsPort)
