"""Ctrl-C and SIGTERM during an apply: asked once, they stop new actions, never bookkeeping.

While the walker runs, SIGINT (Ctrl-C) and SIGTERM (a CI job cancelled, a service
stopped) are taken by `StopRequests`, whose handler only notes the request: an exception
raised wherever the main thread happens to be (inside a future's locks, half way through
recording a result) could lose a result or leave a lock held. The walker looks at the
note between its short waits for running actions: nothing new starts, the running actions
finish and are recorded. Later signals change nothing more; SIGKILL is the way to stop at
once (the journal covers it). A signal the process was started with ignored (`nohup`, a
shell's background job) stays ignored.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """Installs the stop handlers for the block (main thread only; elsewhere a no-op)."""

    def __init__(self) -> None:
        self.pending = False  # a stop was asked for
        self._previous: dict[int, Any] = {}

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.pending = True

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in STOP_SIGNALS:
            before = signal.getsignal(sig)
            if before is signal.SIG_IGN:
                continue
            self._previous[sig] = before
            signal.signal(sig, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, before in self._previous.items():
            signal.signal(sig, before if before is not None else signal.SIG_DFL)
        self._previous.clear()
