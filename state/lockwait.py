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


OnWait = Callable[[StateLockedError], None]
"""Told once, with the first refusal, that the lock is held and the wait begins."""


def acquire_waiting(locker: Locker, operation: str, timeout: float, *,
                    sleep: Sleep = time.sleep, clock: Clock = time.monotonic,
                    on_wait: OnWait | None = None) -> LockInfo:
    """Take `locker` for `operation`, waiting up to `timeout` seconds while it is held;
    `on_wait` hears of the first refusal when there is a wait to begin.

    Raises StateLockedError naming the holder (and the wait) when it is still held then.
    """
    deadline = clock() + max(0.0, timeout)
    pause = 0.1
    told = False
    while True:
        try:
            return locker.acquire(operation)
        except StateLockedError as exc:
            if on_wait is not None and not told and timeout > 0:
                on_wait(exc)
                told = True
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
