"""State locks: the holder record, the Locker interface and the local OS-lock implementation."""

from __future__ import annotations

import fcntl
import getpass
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from safefs.atomicfile import PRIVATE_FILE, make_private_dirs, private_fd
from state.errors import StateBackendError, StateLockedError, StateUnlockError
from state.lockinfo import LockInfo

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware; passed in so runs can fix the clock."""

_MAX_RECORD = 64 * 1024


def local_now() -> datetime:
    """Return the current local time with its UTC offset (the default Clock)."""
    return datetime.now().astimezone()


def current_user() -> str:
    """Return the login name of this process, or its uid when the name is unknown."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def new_lock_info(operation: str, path: str, clock: Clock) -> LockInfo:
    """Describe this process taking a lock on state `path` for `operation` (e.g. "apply")."""
    return LockInfo(
        id=str(uuid.uuid4()),
        pid=os.getpid(),
        host=socket.gethostname(),
        user=current_user(),
        operation=operation,
        created=clock(),
        path=path,
    )


def parse_lock_info(data: bytes) -> LockInfo | None:
    """Return the LockInfo in `data`, or None when it is empty or not a complete record."""
    if not data.strip():
        return None
    try:
        return LockInfo.model_validate_json(data)
    except ValidationError:
        return None


class Locker(ABC):
    """Mutual exclusion for one state, with a readable record of the holder."""

    @abstractmethod
    def acquire(self, operation: str) -> LockInfo:
        """Take the lock for `operation` without waiting; returns the record written.

        Raises StateLockedError naming the holder when another run has it.
        """

    @abstractmethod
    def release(self, info: LockInfo) -> None:
        """Give back a lock this object acquired. Raises StateUnlockError if it is not ours."""

    @abstractmethod
    def holder(self) -> LockInfo | None:
        """Return who holds the lock now, or None when it is free."""

    @abstractmethod
    def force_unlock(self, lock_id: str) -> None:
        """Remove the lock `lock_id` whose holder is gone.

        Raises StateUnlockError when no lock with that id exists, StateLockedError when the
        backend can tell that its holder is still alive.
        """


class LocalLock(Locker):
    """An exclusive ``flock`` on ``<state>.lock`` holding the holder's LockInfo as content.

    The kernel drops the lock when the holding process exits, however it dies, so a killed
    run never leaves a stale lock. The descriptor is not inherited by programs the holder
    executes (Python opens files non-inheritable), so a daemon started by an apply does not
    keep the lock alive. Not re-entrant: a second acquire in the same process is refused.
    """

    def __init__(self, state_path: Path, *, clock: Clock | None = None) -> None:
        self._state_label = str(state_path)
        self._lock_path = state_path.with_name(state_path.name + ".lock")
        self._clock = clock or local_now
        self._held: dict[str, int] = {}

    @property
    def lock_path(self) -> Path:
        """The lock file, ``<state>.lock``."""
        return self._lock_path

    def _open(self, flags: int) -> int:
        try:
            fd = os.open(self._lock_path, flags, PRIVATE_FILE)
        except OSError as err:
            raise StateBackendError(
                f"cannot open lock file {self._lock_path} ({err.strerror}); "
                "check that its directory exists and is writable"
            ) from err
        if flags & os.O_CREAT:
            private_fd(fd)
        return fd

    def _record(self, fd: int) -> LockInfo | None:
        return parse_lock_info(os.pread(fd, _MAX_RECORD, 0))

    def acquire(self, operation: str) -> LockInfo:
        """Take the lock (see Locker.acquire); raises StateLockedError or StateBackendError."""
        make_private_dirs(self._lock_path.parent)
        fd = self._open(os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._record(fd)
            os.close(fd)
            raise StateLockedError(
                self._state_label,
                holder,
                "wait for it to finish; the lock is freed as soon as that process exits",
            ) from None
        except OSError as err:
            os.close(fd)
            raise StateBackendError(
                f"cannot lock {self._lock_path} ({err.strerror}); "
                "keep local state on a file system that supports flock"
            ) from err
        info = new_lock_info(operation, self._state_label, self._clock)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, info.to_json() + b"\n", 0)
            os.fsync(fd)
        except OSError as err:
            os.close(fd)
            raise StateBackendError(
                f"cannot write lock file {self._lock_path} ({err.strerror})"
            ) from err
        self._held[info.id] = fd
        return info

    def release(self, info: LockInfo) -> None:
        """Clear the record and drop the OS lock; raises StateUnlockError if not held here."""
        fd = self._held.pop(info.id, None)
        if fd is None:
            raise StateUnlockError(
                f"lock {info.id} on state {self._state_label} is not held by this process"
            )
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # the OS lock below is what matters; a stale record is ignored when free
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder(self) -> LockInfo | None:
        """Return the live holder's record, or None when no process holds the OS lock."""
        if not self._lock_path.exists():
            return None
        fd = self._open(os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return self._record(fd) or self._unknown_holder()
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def _unknown_holder(self) -> LockInfo:
        return LockInfo(
            id="unknown",
            pid=0,
            host="unknown",
            user="unknown",
            operation="a run that has not written its details yet",
            created=self._clock(),
            path=self._state_label,
        )

    def force_unlock(self, lock_id: str) -> None:
        """Clear the stale record `lock_id`; refuses while a live process holds the lock."""
        if not self._lock_path.exists():
            raise StateUnlockError(f"state {self._state_label} is not locked; nothing to unlock")
        fd = self._open(os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StateLockedError(
                    self._state_label,
                    self._record(fd),
                    "a local lock is freed by the OS when its holder exits; "
                    "stop that process instead of unlocking",
                ) from None
            try:
                record = self._record(fd)
                if record is None:
                    raise StateUnlockError(
                        f"state {self._state_label} is not locked; nothing to unlock"
                    )
                if record.id != lock_id:
                    raise StateUnlockError(
                        f"state {self._state_label} has no lock {lock_id} "
                        f"(the recorded lock is {record.id}); nothing removed"
                    )
                os.ftruncate(fd, 0)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
