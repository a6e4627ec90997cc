"""A state lock kept as an object created with a conditional write in any BlobStore."""

from __future__ import annotations

from state.blobstore import BlobStore
from state.errors import StateBackendError, StateConflictError, StateLockedError, StateUnlockError
from state.lock import Clock, Locker, LockInfo, local_now, new_lock_info, parse_lock_info

_ATTEMPTS = 3


class ObjectLock(Locker):
    """Lock = an object at `lock_key` created only if absent; its content is the LockInfo.

    Nothing notices when a holder dies, so a crashed run leaves the object behind; the
    refusal names it and `force_unlock(id)` removes it, only when the id matches.
    """

    def __init__(
        self, store: BlobStore, lock_key: str, *, state_label: str, clock: Clock | None = None
    ) -> None:
        self._store = store
        self._key = lock_key
        self._state_label = state_label
        self._clock = clock or local_now
        self._held: dict[str, str] = {}

    def _current(self) -> tuple[LockInfo, str] | None:
        blob = self._store.get(self._key)
        if blob is None:
            return None
        info = parse_lock_info(blob.data)
        if info is None:
            raise StateBackendError(
                f"lock object {self._store.location(self._key)} is not a drydock lock record; "
                "delete it by hand once no run is using the state"
            )
        return info, blob.version

    def acquire(self, operation: str) -> LockInfo:
        """Create the lock object (see Locker.acquire); raises StateLockedError when taken."""
        info = new_lock_info(operation, self._state_label, self._clock)
        for _ in range(_ATTEMPTS):
            try:
                version = self._store.put(self._key, info.to_json(), expect_version=None)
            except StateConflictError:
                current = self._current()
                if current is None:
                    continue  # released between our write and our read: try again
                raise StateLockedError(
                    self._state_label,
                    current[0],
                    "wait for it or, if that process is gone, "
                    f"run 'drydock state unlock {current[0].id}'",
                ) from None
            self._held[info.id] = version
            return info
        raise StateLockedError(self._state_label, None, "it is changing hands; try again")

    def release(self, info: LockInfo) -> None:
        """Delete our lock object; raises StateUnlockError if someone removed or replaced it."""
        version = self._held.pop(info.id, None)
        if version is None:
            raise StateUnlockError(
                f"lock {info.id} on state {self._state_label} is not held by this process"
            )
        try:
            self._store.delete(self._key, expect_version=version)
        except StateConflictError as err:
            raise StateUnlockError(
                f"lock {info.id} on state {self._state_label} was removed by someone else "
                "while this run held it; check 'drydock state history' for writes meanwhile"
            ) from err

    def holder(self) -> LockInfo | None:
        """Return the record in the lock object, or None when there is no lock object."""
        current = self._current()
        return None if current is None else current[0]

    def force_unlock(self, lock_id: str) -> None:
        """Delete the lock object if its id is `lock_id`; raises StateUnlockError otherwise."""
        current = self._current()
        if current is None:
            raise StateUnlockError(f"state {self._state_label} is not locked; nothing to unlock")
        info, version = current
        if info.id != lock_id:
            raise StateUnlockError(
                f"state {self._state_label} is locked by lock {info.id}, not {lock_id}; "
                "nothing removed"
            )
        try:
            self._store.delete(self._key, expect_version=version)
        except StateConflictError as err:
            raise StateUnlockError(
                f"lock {lock_id} on state {self._state_label} changed while unlocking; "
                "nothing removed, run the unlock again"
            ) from err
