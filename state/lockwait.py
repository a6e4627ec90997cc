"""Waiting for a state lock: retry a refused acquire until a deadline (`--lock-timeout`).

A lock held by another run is retried with a growing pause (0.1 s doubling up to 2 s);
when the deadline passes, the last refusal is raised with how long it waited. Any other
failure (an unreachable backend) is raised at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from state.errors import StateLockedError
from state.lock import Locker, LockInfo

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def acquire_waiting(locker: Locker, operation: str, timeout: float, *,
                    sleep: Sleep = time.sleep, clock: Clock = time.monotonic) -> LockInfo:
    """Take `locker` for `operation`, waiting up to `timeout` seconds while it is held.

    Raises StateLockedError naming the holder (and the wait) when it is still held then.
    """
    deadline = clock() + max(0.0, timeout)
    pause = 0.1
    while True:
        try:
            return locker.acquire(operation)
        except StateLockedError as exc:
            left = deadline - clock()
            if left <= 0:
                if timeout > 0:
                    raise StateLockedError(
                        exc.location, exc.holder,
                        f"still held after waiting {timeout:g}s (--lock-timeout); "
                        "wait for it to finish or try again later") from None
                raise
            sleep(min(pause, left))
            pause = min(pause * 2, 2.0)
