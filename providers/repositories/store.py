"""The storage-agnostic snapshot store: what listing, pruning and verifying rely on.

Byte repositories (local, S3) and RDS snapshot stores both implement it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from providers.repositories.manifest import Manifest
from providers.repositories.models import VerifyResult


class SnapshotStore(ABC):
    """What every snapshot store offers: a catalog of manifests, verify, delete, copy."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def list(self, series: str | None = None) -> list[Manifest]:
        """Return the manifests of complete snapshots (of `series` if given), oldest first."""

    @abstractmethod
    def get_manifest(self, series: str, snapshot_id: str) -> Manifest:
        """Return one snapshot's manifest; raises SnapshotNotFound."""

    @abstractmethod
    def verify(self, series: str, snapshot_id: str) -> VerifyResult:
        """Check every part of a snapshot against its manifest; raises SnapshotNotFound."""

    @abstractmethod
    def delete(self, series: str, snapshot_id: str, *, missing_ok: bool = False) -> None:
        """Delete a snapshot, making it invisible first; raises SnapshotNotFound."""
