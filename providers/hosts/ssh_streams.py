"""Synchronous file objects over asynchronous remote reads and writes (SFTP files, process
pipes), moving one chunk per loop call so no file is ever held whole in memory."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

CHUNK = 1 << 20

Call = Callable[[Callable[[], Awaitable[Any]]], Any]
"""Runs an async function on the ssh event loop, bounded and with errors translated."""


class ChunkReader(io.RawIOBase):
    """Reads by awaiting `read(n)` (bytes; b"" at the end) on the loop."""

    def __init__(self, call: Call, read: Callable[[int], Awaitable[bytes]]) -> None:
        super().__init__()
        self._call = call
        self._read = read

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` with at most one chunk from the remote side."""
        view = memoryview(buffer).cast("B")
        want = min(len(view), CHUNK)
        data = self._call(lambda: self._read(want))
        view[:len(data)] = data
        return len(data)


class ChunkWriter(io.RawIOBase):
    """Writes by awaiting `write(data)` on the loop (which waits for flow control)."""

    def __init__(self, call: Call, write: Callable[[bytes], Awaitable[Any]]) -> None:
        super().__init__()
        self._call = call
        self._write = write
        self._abandoned = False

    def abandon(self) -> None:
        """Drop whatever is still buffered above this writer instead of sending it."""
        self._abandoned = True

    def writable(self) -> bool:
        """Always writable."""
        return True

    def write(self, buffer: Any) -> int:
        """Send all of `buffer`."""
        data = bytes(buffer)
        if data and not self._abandoned:
            self._call(lambda: self._write(data))
        return len(data)


def buffered_reader(call: Call, read: Callable[[int], Awaitable[bytes]]) -> io.BufferedReader:
    """A BufferedReader over `read` with one-chunk buffering."""
    return io.BufferedReader(ChunkReader(call, read), buffer_size=CHUNK)


def buffered_writer(call: Call, write: Callable[[bytes], Awaitable[Any]]) -> io.BufferedWriter:
    """A BufferedWriter over `write`, so many small writes cost one round trip per chunk."""
    return io.BufferedWriter(ChunkWriter(call, write), buffer_size=CHUNK)
