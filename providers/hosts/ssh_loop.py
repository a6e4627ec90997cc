"""One asyncio event loop in a daemon thread, so synchronous callers can drive asyncssh.

Every ssh transport of a process shares this loop (connections are per transport): many
threads may submit work at once, and the loop interleaves their I/O, which is what lets a
refresh across hundreds of hosts run with a handful of threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in its own daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="drydock-ssh",
                                        daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run `coro` on the loop and wait for its result (at most `timeout` seconds).

        Raises whatever the coroutine raises; TimeoutError (after cancelling it) when the
        wait is over first.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a blocking ssh call was made from the ssh event loop itself")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no result within {timeout:.0f}s") from None
        except BaseException:  # Ctrl-C in the waiting thread: stop the work too
            future.cancel()
            raise


_shared: LoopThread | None = None
_shared_lock = threading.Lock()


def shared_loop() -> LoopThread:
    """The process's ssh event loop, started on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LoopThread()
        return _shared
