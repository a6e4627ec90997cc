"""Errors raised by the state layer; every message is one line naming the state and a next step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from state.lockinfo import LockInfo


class StateError(Exception):
    """Base class of every state-layer error; `str(err)` is one line meant for the operator."""


class StateCorruptError(StateError):
    """A stored state document cannot be read back as written.

    Takes the document's location, what is wrong with it (`reason`, e.g. "checksum
    mismatch") and optional advice; the message reads
    ``state <source> is corrupt (<reason>); <advice>``.
    """

    def __init__(self, source: str, reason: str, advice: str = "") -> None:
        self.source = source
        self.reason = reason
        message = f"state {source} is corrupt ({reason})"
        super().__init__(f"{message}; {advice}" if advice else message)


class StateConflictError(StateError):
    """A compare-and-swap write lost: the stored object changed since it was read."""


class StateLineageError(StateError):
    """The document being written belongs to another state (other lineage or environment)."""


class StateHistoryError(StateError):
    """A requested earlier version of the state is not kept in its history."""


class StateBackendError(StateError):
    """The storage behind the state (a directory, a bucket) refused or failed an operation."""


class StateUnlockError(StateError):
    """`force_unlock` found no lock with the given id, or the lock is still in use."""


class StateLockedError(StateError):
    """Another run holds the state lock; `holder` tells who, when it could be read.

    Takes the human location of the state, the holder's `LockInfo` (None when the holder
    has not yet written its details) and the advice to print after the holder.
    """

    def __init__(self, location: str, holder: LockInfo | None, advice: str) -> None:
        self.location = location
        self.holder = holder
        if holder is None:
            who = "another process (it has not written its details yet)"
        else:
            who = (
                f"{holder.operation} (pid {holder.pid} on host {holder.host}, "
                f"user {holder.user}, since {holder.created.isoformat()}, lock id {holder.id})"
            )
        super().__init__(f"state {location} is locked by {who}; {advice}")
