"""Lanes: how many actions and observations work on this machine's own files at once.

Work on a local home is Python between short system calls, all under one interpreter
lock. Ten threads of it on a 2-core machine mostly hand that lock to each other: a
converge of 1,000 local homes at width 10 made 4.2 million futex calls, spent more time
in the kernel than in Python and took 21-30 s, against 16-17 s with two lanes. So local
work holds one of as many lanes as the process has cores while it runs; the threads
beyond wait on a lane, asleep, instead of taking turns with the lock. Remote hosts keep
the full width (their threads mostly wait for the network). A thread already in a lane
does not take a second one, so nested work cannot deadlock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from providers.hosts.base import Transport
from providers.hosts.local import LocalTransport


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


WIDTH = _cores()
_LANES = threading.BoundedSemaphore(WIDTH)
_HELD = threading.local()


def is_local(t: Transport) -> bool:
    """True when `t` (or the transport it guards) works on this machine."""
    return isinstance(getattr(t, "inner", t), LocalTransport)


@contextmanager
def lane(t: Transport) -> Iterator[None]:
    """Hold a local lane while the block runs when `t` is this machine; else nothing."""
    if not is_local(t) or getattr(_HELD, "inside", False):
        yield
        return
    with _LANES:
        _HELD.inside = True
        try:
            yield
        finally:
            _HELD.inside = False
