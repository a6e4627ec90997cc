"""What RDS snapshots and AMIs share as snapshot stores: one region, one client, tags.

A concrete store (`RdsSnapshotStore`, `AmiStore`) lists its drydock items from AWS, finds
one by series and id, and says how AWS is asked to make or copy one and which waiter
tells it is available; the catalog, verification, messages, and the idempotent
create / copy / bounded wait built on those live here, so both behave the same.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

from engine.contracts.catalog import CatalogEntry
from providers.aws.clients import AwsEndpoint, error_code, make_client, translated
from providers.aws.waiting import AwsWait, Progress, WaitFailures, wait_bounded
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
    things: ClassVar[str] = ""
    """What the items are called in messages ("AMIs", "RDS snapshots")."""
    waiter: ClassVar[str] = ""
    """The boto3 waiter that tells an item is available."""
    duplicate: ClassVar[frozenset[str]] = frozenset()
    """AWS error codes meaning "it exists already" (another run asked first)."""
    failures: ClassVar[WaitFailures | None] = None
    """How a failed wait is told."""

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
    def every_item(self) -> Sequence[AwsItem]:
        """Every drydock item here in any state, oldest first (for `backups check`)."""

    def item_problems(self, item: Any) -> list[str]:
        """What is wrong with an available item beyond its status (none by default)."""
        return []

    @abstractmethod
    def find(self, series: str, snapshot_id: str) -> AwsItem | None:
        """The item of `series`/`snapshot_id` in any state, or None when absent."""

    @abstractmethod
    def _waiter_args(self, series: str, snapshot_id: str) -> dict[str, Any]:
        """The waiter's arguments for the item; raises SnapshotNotFound when they need the
        item and it is not there."""

    @staticmethod
    @abstractmethod
    def _pending(response: Any) -> str:
        """A waiter response as progress text ("pending", "creating (40%)")."""

    @staticmethod
    @abstractmethod
    def _state(response: Any) -> str:
        """A waiter response as the state a failure names ("state failed")."""

    # ----- making, shared by both services ----------------------------------------------

    def _start(self, where: str, operation: str, call: Callable[[], object], *,
               missing: frozenset[str] = frozenset(), missing_text: str = "") -> bool:
        """Ask AWS to make an item (`call`); False when it exists already. An error code in
        `missing` (the source is not there) becomes `missing_text`."""
        try:
            with self._calling(operation, where):
                call()
        except RepositoryError as exc:
            code = cause_code(exc)
            if code in self.duplicate:
                return False
            if code in missing:
                raise RepositoryError(f"{where}: {missing_text}") from None
            raise
        return True

    def _create_with(self, series: str, snapshot_id: str, start: Callable[[], bool],
                     started: str, progress: Progress) -> tuple[Any, bool]:
        """`(the available item, whether this call made it)`: `start` asks AWS for it
        unless it exists; then the bounded wait."""
        made = False
        if self.find(series, snapshot_id) is None:
            made = start()
            if made:
                progress(f"{self._where(series, snapshot_id)}: {started}")
        return self._await(series, snapshot_id, progress), made

    def _copy_with(self, other: AwsStore, series: str, snapshot_id: str,
                   start: Callable[[Any], bool], progress: Progress) -> tuple[Any, bool]:
        """`(the available copy, whether this call made it)` of `other`'s item (another
        region); `start(source)` asks AWS to copy it unless the copy exists. Raises
        SnapshotNotFound (not available in `other`) or RepositoryError."""
        where = self._where(series, snapshot_id)
        if other.region == self.region:
            raise RepositoryError(f"{where}: repository {other.name} is in the same region; "
                                  f"copy {self.things} to another region")
        if self.find(series, snapshot_id) is not None:
            return self._await(series, snapshot_id, progress), False
        source = other.find(series, snapshot_id)
        if source is None or not source.available:
            raise SnapshotNotFound(f"{other._where(series, snapshot_id)}: not available to copy")
        made = start(source)
        if made:
            progress(f"{where}: copy from {other.region} started")
        return self._await(series, snapshot_id, progress), made

    def _await(self, series: str, snapshot_id: str, progress: Progress) -> Any:
        """Wait (bounded by `wait`) until the item is available; returns it. Raises
        SnapshotNotFound (it is not there) or RepositoryError (failed, waited too long)."""
        where = self._where(series, snapshot_id)
        args = self._waiter_args(series, snapshot_id)
        failures = self.failures
        assert failures is not None, f"{type(self).__name__} names no failures"

        def timed_out(status: str, waited: str) -> RepositoryError:
            return RepositoryError(f"{where}: still {status} after {waited}; it goes on in "
                                   "AWS and is listed once available: run apply again later")

        wait_bounded(self._client().get_waiter(self.waiter), args,
                     self.wait, calling=lambda: self._calling("wait until available", where),
                     pending=self._pending, failed=lambda exc: failures.of(where, exc,
                                                                           self._state),
                     timed_out=timed_out, progress=progress, subject=where)
        done = self.find(series, snapshot_id)
        if done is None:
            raise SnapshotNotFound(f"{where}: vanished while waiting for it")
        return done

    # ----- reading, shared ----------------------------------------------------------------

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
