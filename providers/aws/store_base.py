"""What RDS snapshots and AMIs share as snapshot stores: one region, one client, tags.

A concrete store (`RdsSnapshotStore`, `AmiStore`) lists its drydock items from AWS and
finds one by series and id; everything the catalog, verification and messages need on
top of that lives here, so both behave the same.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

from engine.contracts.catalog import CatalogEntry
from providers.aws.clients import AwsEndpoint, error_code, make_client, translated
from providers.aws.waiting import AwsWait
from providers.repositories.base import SnapshotStore
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.repositories.manifest import Manifest
from providers.repositories.models import PartCheck, VerifyResult


class AwsItem(Protocol):
    """A drydock snapshot kept by AWS (an RDS snapshot, an AMI)."""

    @property
    def available(self) -> bool:
        """True when AWS reports it usable."""
        ...

    @property
    def label(self) -> str:
        """Its AWS identifier, for messages and verify results."""
        ...

    @property
    def status(self) -> str:
        """AWS's word for its state."""
        ...

    @property
    def size(self) -> int:
        """Bytes it covers (allocated storage, volume sizes)."""
        ...

    def manifest(self) -> Manifest:
        """It as a Manifest without parts."""
        ...

    def entry(self, repository: str) -> CatalogEntry:
        """Its catalog entry in `repository`."""
        ...


class AwsStore(SnapshotStore):
    """A snapshot store of one AWS service in one region (at `endpoint_url` when given).

    `kms_key_id` is the key copies into this region are encrypted with; `client` lets a
    caller supply a ready boto3 client; `wait` bounds every wait.
    """

    service: ClassVar[str] = ""

    def __init__(self, name: str, region: str, endpoint_url: str | None = None, *,
                 kms_key_id: str | None = None, wait: AwsWait | None = None,
                 client: Any = None) -> None:
        super().__init__(name)
        self.endpoint = AwsEndpoint(region=region, endpoint_url=endpoint_url)
        self.kms_key_id = kms_key_id
        self.wait = wait or AwsWait()
        self._client_obj = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.region!r})"

    @property
    def region(self) -> str:
        """The AWS region the snapshots live in."""
        return self.endpoint.region

    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = make_client(self.service, self.endpoint)
        return self._client_obj

    @contextmanager
    def _calling(self, operation: str, subject: str | None = None) -> Iterator[None]:
        with translated(RepositoryError, subject=subject or f"repository {self.name}",
                        operation=operation, service=self.service, where=self.endpoint):
            yield

    @abstractmethod
    def _where(self, series: str, snapshot_id: str) -> str:
        """`repository X: snapshot S/I (<AWS name> in <region>)`, for messages."""

    @abstractmethod
    def snapshots(self, series: str | None = None) -> Sequence[AwsItem]:
        """Available drydock items here (of `series` if given), oldest first."""

    @abstractmethod
    def find(self, series: str, snapshot_id: str) -> AwsItem | None:
        """The item of `series`/`snapshot_id` in any state, or None when absent."""

    def catalog_entries(self, series: str) -> list[CatalogEntry]:
        """The catalog entries of `series` here, oldest first."""
        return [item.entry(self.name) for item in self.snapshots(series)]

    def list(self, series: str | None = None) -> list[Manifest]:
        """Manifests (without parts) of the available items, oldest first."""
        return [item.manifest() for item in self.snapshots(series)]

    def get_manifest(self, series: str, snapshot_id: str) -> Manifest:
        """The manifest of an available item; raises SnapshotNotFound otherwise."""
        item = self.find(series, snapshot_id)
        if item is None or not item.available:
            state = "not found" if item is None else f"not available (status {item.status})"
            raise SnapshotNotFound(f"{self._where(series, snapshot_id)}: {state}")
        return item.manifest()

    def verify(self, series: str, snapshot_id: str) -> VerifyResult:
        """Check the item exists and is available; raises SnapshotNotFound if absent.

        AWS keeps the bytes and their checksums, so the item counts as one part whose
        check is AWS's status.
        """
        item = self.find(series, snapshot_id)
        if item is None:
            raise SnapshotNotFound(f"{self._where(series, snapshot_id)}: not found")
        check = PartCheck(name=item.label, ok=item.available, expected_sha256="",
                          actual_sha256=None, expected_size=item.size, actual_size=item.size,
                          problem=None if item.available else f"AWS status is {item.status}")
        return VerifyResult(repository=self.name, series=series, id=snapshot_id,
                            parts=(check,))


def cause_code(exc: Exception) -> str:
    """The AWS error code behind a translated error ('' for anything else)."""
    cause = exc.__cause__
    return error_code(cause) if isinstance(cause, Exception) else ""
