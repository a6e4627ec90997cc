"""The storage primitives a repository backend (local directory, S3) implements.

Everything above them (compression, hashing, manifests, ownership, copying) lives in
``providers.repositories.base`` so every backend behaves the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import BinaryIO


class StoragePrimitives(ABC):
    """Objects of snapshots addressed by (series, snapshot id, name)."""

    @abstractmethod
    def _writer(self, series: str, snapshot_id: str, name: str) -> AbstractContextManager[BinaryIO]:
        """Open a stored object for writing; committed on clean exit, discarded on error."""

    @abstractmethod
    def _reader(self, series: str, snapshot_id: str, name: str) -> BinaryIO:
        """Open a stored object for reading; raises FileNotFoundError when missing."""

    @abstractmethod
    def _load_manifest(self, series: str, snapshot_id: str) -> bytes | None:
        """Return the manifest bytes, or None when the snapshot has no manifest."""

    @abstractmethod
    def _save_manifest(self, series: str, snapshot_id: str, data: bytes) -> None:
        """Write the manifest atomically (all or nothing) and durably."""

    @abstractmethod
    def _remove_manifest(self, series: str, snapshot_id: str) -> None:
        """Remove the manifest durably (no error when absent)."""

    @abstractmethod
    def _remove_data(self, series: str, snapshot_id: str) -> None:
        """Remove everything left of a snapshot (no error when absent)."""

    @abstractmethod
    def _manifest_keys(self, series: str | None) -> Iterator[tuple[str, str]]:
        """Yield (series, snapshot id) of every snapshot that has a manifest."""

    @abstractmethod
    def _remove_object(self, series: str, snapshot_id: str, name: str) -> None:
        """Remove one stored object of a snapshot (no error when absent)."""

    @abstractmethod
    def _unfinished(self, series: str | None) -> Iterator[tuple[str, str, datetime]]:
        """Yield (series, id, last modified) of snapshot folders that carry drydock's
        in-progress marker and no manifest."""

    @abstractmethod
    def _inventory(self) -> Iterator[tuple[str, str, str, int]]:
        """Yield (series, id, object name, stored size) of every object in a snapshot
        folder, with or without a manifest (for a repository-wide check)."""

    @abstractmethod
    def _claim(self, *, create: bool) -> None:
        """Check the repository path is drydock's (marked, or empty, or only snapshots);
        with `create`, make it and write the marker. Raises RepositoryError otherwise."""

