"""Helpers to run and kill real child processes in the state tests."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

READY_TIMEOUT = 60.0
"""Upper bound to wait for a child's report; a safety net, not a timing assumption."""


@contextmanager
def child(target: Callable[..., None], *args: object) -> Iterator[tuple[BaseProcess, Connection]]:
    """Start `target(*args, conn)` in a spawned process; always kill and reap it on exit."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=target, args=(*args, theirs), daemon=True)
    process.start()
    try:
        yield process, ours
    finally:
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join(READY_TIMEOUT)
        ours.close()


def receive(conn: Connection) -> object:
    """Return the child's next message; fail the test if it never arrives."""
    if not conn.poll(READY_TIMEOUT):
        raise AssertionError("child process did not report")
    return conn.recv()


def kill(process: BaseProcess) -> None:
    """SIGKILL `process` and reap it, so the kernel has closed all its files."""
    os.kill(process.pid, signal.SIGKILL)
    process.join(READY_TIMEOUT)
    assert process.exitcode == -signal.SIGKILL
