"""The state manager: read, checked write (lineage + serial + CAS), history, rollback, lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict

from state.blobstore import Blob, BlobStore
from state.document import AppliedInfo, StateDocument, encode, from_bytes, new_document
from state.errors import (
    StateBackendError,
    StateConflictError,
    StateCorruptError,
    StateError,
    StateHistoryError,
    StateLineageError,
)
from state.lock import Locker, LockInfo
from state.lockwait import OnWait

HISTORY_SUFFIX = ".history/"


class HistoryEntry(BaseModel):
    """One kept earlier version of the state, as listed by `drydock state history`."""

    model_config = ConfigDict(frozen=True)

    serial: int
    location: str
    size: int
    valid: bool
    applied: AppliedInfo | None = None
    summary: str = ""


class StateManager:
    """Reads and writes one environment's state document through a BlobStore and a Locker.

    Every write checks that the stored document is the one the caller read (same lineage,
    same serial), bumps the serial, stores it with compare-and-swap and keeps a copy under
    ``<key>.history/<serial>.json``, trimmed to the `keep_versions` newest.
    """

    def __init__(
        self,
        store: BlobStore,
        locker: Locker,
        *,
        key: str,
        environment: str,
        keep_versions: int = 20,
        lock_timeout: float = 0.0,
        on_wait: OnWait | None = None,
    ) -> None:
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self._store = store
        self._locker = locker
        self._key = key
        self._environment = environment
        self._keep = keep_versions
        self._lock_timeout = lock_timeout
        self._on_wait = on_wait

    def waiting(self, lock_timeout: float, on_wait: OnWait | None = None) -> StateManager:
        """The same state whose `lock()` waits up to `lock_timeout` seconds for the lock,
        telling `on_wait` once when it has to wait."""
        return StateManager(self._store, self._locker, key=self._key,
                            environment=self._environment, keep_versions=self._keep,
                            lock_timeout=lock_timeout, on_wait=on_wait)

    @property
    def locker(self) -> Locker:
        """The lock guarding this state (for `state unlock` and holder display)."""
        return self._locker

    @property
    def location(self) -> str:
        """Where the state document lives, for messages."""
        return self._store.location(self._key)

    @contextmanager
    def lock(self, operation: str, *, timeout: float | None = None) -> Iterator[LockInfo]:
        """Hold the state lock for `operation` for the duration of a `with` block, waiting
        up to `timeout` seconds (default: the manager's lock timeout) for another run to
        release it.

        Raises StateLockedError (naming the holder) when another run still holds it.
        """
        from state.lockwait import acquire_waiting

        wait = self._lock_timeout if timeout is None else timeout
        info = acquire_waiting(self._locker, operation, wait, on_wait=self._on_wait)
        try:
            yield info
        finally:
            self._locker.release(info)

    # -- reading -------------------------------------------------------------------------

    def read(self) -> StateDocument:
        """Return the stored document, or a new empty one (serial 0) when none is stored.

        A state that was never written has no lineage yet: each such read invents a fresh
        one, so a plan made at serial 0 should be checked against the serial only.

        Raises StateCorruptError naming the last good kept version, StateLineageError when
        the stored document belongs to another environment, StateBackendError on I/O.
        """
        blob = self._store.get(self._key)
        if blob is None:
            return new_document(self._environment)
        return self._parse_current(blob)

    def _parse_current(self, blob: Blob) -> StateDocument:
        try:
            doc = from_bytes(blob.data, source=self.location)
        except StateCorruptError as err:
            raise StateCorruptError(err.source, err.reason, self._recovery_advice()) from err
        if doc.environment != self._environment:
            raise StateLineageError(
                f"state {self.location} belongs to environment {doc.environment!r}, not "
                f"{self._environment!r}; give each environment its own state location"
            )
        return doc

    def _history_key(self, serial: int) -> str:
        return f"{self._key}{HISTORY_SUFFIX}{serial}.json"

    def _history_serials(self) -> list[int]:
        prefix = self._key + HISTORY_SUFFIX
        serials = []
        for key in self._store.list(prefix):
            stem = key[len(prefix) :].removesuffix(".json")
            if stem.isdigit() and key.endswith(".json"):
                serials.append(int(stem))
        return sorted(serials)

    def _recovery_advice(self) -> str:
        for serial in reversed(self._history_serials()):
            key = self._history_key(serial)
            blob = self._store.get(key)
            if blob is None:
                continue
            try:
                from_bytes(blob.data, source=self._store.location(key))
            except StateCorruptError:
                continue
            return (
                f"the last good version is serial {serial} at {self._store.location(key)}; "
                f"run 'drydock state rollback {serial}'"
            )
        return (
            f"no good earlier version is kept under {self.location}.history; "
            "restore the file from a backup"
        )

    # -- writing -------------------------------------------------------------------------

    def write(self, doc: StateDocument, *, expect: StateDocument) -> StateDocument:
        """Store `doc` as the next serial, if the stored state is still `expect`.

        `expect` is the document returned by the `read` (or `write`) this change started
        from. Returns the stored document (serial bumped, checksum filled). Raises
        StateLineageError when `doc` belongs to another state, StateConflictError when
        someone wrote since `expect` was read, StateCorruptError, StateBackendError.
        """
        if doc.lineage != expect.lineage or doc.environment != self._environment:
            raise StateLineageError(
                f"refusing to write {doc.environment!r} lineage {doc.lineage} over state "
                f"{self.location} read as {expect.environment!r} lineage {expect.lineage}; "
                "write only documents derived from this state's own read"
            )
        blob = self._store.get(self._key)
        if blob is None:
            if expect.serial != 0:
                raise StateConflictError(
                    f"state {self.location} no longer exists but serial {expect.serial} was "
                    "read; find out who removed it before writing again"
                )
            return self._store_next(doc, base_serial=0, version=None)
        current = self._parse_current(blob)
        if expect.serial == 0:
            raise StateConflictError(
                f"state {self.location} was created by another run (serial {current.serial}) "
                "since it was read; read it again and re-plan"
            )
        if current.lineage != expect.lineage:
            raise StateLineageError(
                f"state {self.location} has lineage {current.lineage}, but the document "
                f"being written descends from lineage {expect.lineage}; it belongs to "
                "another state, so read this state again instead"
            )
        if current.serial != expect.serial:
            raise StateConflictError(
                f"state {self.location} changed since it was read (serial {current.serial} "
                f"now, {expect.serial} when read); read it again and re-plan"
            )
        return self._store_next(doc, base_serial=current.serial, version=blob.version)

    def _store_next(
        self, doc: StateDocument, *, base_serial: int, version: str | None
    ) -> StateDocument:
        sealed, data = encode(doc.model_copy(update={"serial": base_serial + 1}))
        try:
            self._store.put(self._key, data, expect_version=version)
        except StateConflictError as err:
            raise StateConflictError(
                f"state {self.location} changed while serial {sealed.serial} was being "
                "written; read it again and re-plan"
            ) from err
        self._keep_copy(sealed.serial, data)
        return sealed

    def _keep_copy(self, serial: int, data: bytes) -> None:
        key = self._history_key(serial)
        try:
            try:
                self._store.put(key, data, expect_version=None)
            except StateConflictError:
                existing = self._store.get(key)
                self._store.put(key, data, expect_version=existing.version if existing else None)
            for old in self._history_serials()[: -self._keep]:
                self._store.delete(self._history_key(old))
        except StateError as err:
            raise StateBackendError(
                f"state {self.location} was written as serial {serial}, but keeping its "
                f"history copy failed: {err}"
            ) from err

    # -- history -------------------------------------------------------------------------

    def history(self) -> list[HistoryEntry]:
        """Return the kept versions, newest first; unreadable ones have `valid=False`."""
        entries = []
        for serial in reversed(self._history_serials()):
            key = self._history_key(serial)
            blob = self._store.get(key)
            if blob is None:
                continue
            location = self._store.location(key)
            try:
                doc = from_bytes(blob.data, source=location)
            except StateCorruptError as err:
                entries.append(
                    HistoryEntry(
                        serial=serial,
                        location=location,
                        size=len(blob.data),
                        valid=False,
                        summary=f"corrupt: {err.reason}",
                    )
                )
                continue
            entries.append(
                HistoryEntry(
                    serial=serial,
                    location=location,
                    size=len(blob.data),
                    valid=True,
                    applied=doc.applied,
                    summary=doc.applied.summary if doc.applied else "",
                )
            )
        return entries

    def read_version(self, serial: int) -> StateDocument:
        """Return kept version `serial` from the history (any backend).

        Raises StateHistoryError when it is not kept, StateCorruptError when it is damaged.
        """
        key = self._history_key(serial)
        kept = self._store.get(key)
        if kept is None:
            raise StateHistoryError(
                f"serial {serial} of state {self.location} is not kept in its history; "
                "run 'drydock state history' to see the kept versions"
            )
        return from_bytes(kept.data, source=self._store.location(key))

    def rollback(self, serial: int, *, applied: AppliedInfo | None = None) -> StateDocument:
        """Store kept version `serial` again as a NEW serial, so the rollback is recorded too.

        Works when the current document is corrupt. `applied`, when given, replaces the
        old version's provenance (who rolled back, when, why). Returns the stored document.
        Raises StateHistoryError when `serial` is not kept, StateCorruptError when that
        copy is damaged, StateLineageError, StateConflictError, StateBackendError.
        """
        target = self.read_version(serial)
        base = max(self._history_serials(), default=0)
        blob = self._store.get(self._key)
        if blob is not None:
            try:
                current = from_bytes(blob.data, source=self.location)
            except StateCorruptError:
                current = None
            if current is not None:
                if current.lineage != target.lineage:
                    raise StateLineageError(
                        f"kept serial {serial} has lineage {target.lineage}, but state "
                        f"{self.location} has lineage {current.lineage}; refusing to roll back "
                        "to another state's version"
                    )
                base = max(base, current.serial)
        if target.environment != self._environment:
            raise StateLineageError(
                f"kept serial {serial} belongs to environment {target.environment!r}, not "
                f"{self._environment!r}; refusing to roll back"
            )
        if applied is not None:
            target = target.model_copy(update={"applied": applied})
        return self._store_next(
            target, base_serial=base, version=None if blob is None else blob.version
        )

    # -- moving between backends -----------------------------------------------------------

    def stored(self) -> tuple[StateDocument, Blob] | None:
        """The stored document and its blob (bytes, version), or None when nothing is
        stored yet. Raises StateCorruptError, StateLineageError (another environment),
        StateBackendError."""
        blob = self._store.get(self._key)
        return None if blob is None else (self._parse_current(blob), blob)

    def export_versions(self) -> dict[int, bytes]:
        """Every kept history version, serial -> the stored bytes (unparsed)."""
        out = {}
        for serial in self._history_serials():
            blob = self._store.get(self._history_key(serial))
            if blob is not None:
                out[serial] = blob.data
        return out

    def adopt(self, current: bytes, versions: dict[int, bytes], *,
              expect_version: str | None) -> None:
        """Store another backend's state here unchanged: its history copies first, then the
        current document (same lineage and serial), by compare-and-swap on `expect_version`
        (None: nothing may be stored yet). Raises StateConflictError when someone wrote
        meanwhile, StateBackendError.
        """
        for serial, data in sorted(versions.items()):
            key = self._history_key(serial)
            existing = self._store.get(key)
            if existing is None or existing.data != data:
                self._store.put(key, data, expect_version=existing.version if existing else None)
        self._store.put(self._key, current, expect_version=expect_version)

