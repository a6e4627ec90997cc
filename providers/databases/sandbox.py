"""Dumps that cannot run client commands: the MariaDB sandbox line and the PostgreSQL
custom-format check.

A MariaDB/MySQL dump is SQL text fed to the command-line client, which also understands
its own commands (``\\!`` runs a shell command, ``\\.`` reads a file). drydock writes
every dump with MariaDB's sandbox line first, restores only a dump that starts with it,
and runs the client with ``--sandbox`` so a command is refused even if the line was
forged. A PostgreSQL dump is restored only as a pg_dump custom-format archive through
pg_restore, which has no client commands at all (plain SQL would need psql).
"""

from __future__ import annotations

import io
import subprocess  # noqa: TID251
from functools import cache
from typing import BinaryIO

from providers.databases.errors import DatabaseError

SANDBOX_LINE = b"/*M!999999\\- enable the sandbox mode */"
PG_MAGIC = b"PGDMP"
_FIRST_LINE_MAX = 256


class SandboxedDump(io.RawIOBase):
    """A dump stream as written: the sandbox line first (the tool's own, if it wrote one,
    is replaced by it), then `preamble` (statements drydock adds), then the tool's dump."""

    def __init__(self, sink: BinaryIO, preamble: bytes = b"") -> None:
        super().__init__()
        self._sink = sink
        self._preamble = preamble
        self._head = b""
        self._decided = False

    def writable(self) -> bool:
        """Always True."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Pass `data` on once the first line is known to be the sandbox line."""
        size = len(data)
        if self._decided:
            self._sink.write(data)
            return size
        self._head += bytes(data)
        if len(self._head) >= len(SANDBOX_LINE) or b"\n" in self._head:
            self._decide()
        return size

    def _decide(self) -> None:
        self._decided = True
        self._sink.write(SANDBOX_LINE + b"\n" + self._preamble)
        head = self._head
        self._sink.write(head[len(SANDBOX_LINE):] if head.startswith(SANDBOX_LINE) else head)
        self._head = b""

    def finish(self) -> None:
        """Flush what is held back (a dump shorter than the sandbox line)."""
        if not self._decided:
            self._decide()


class _Prefixed(io.RawIOBase):
    """`head` followed by the rest of `source`."""

    def __init__(self, head: bytes, source: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._source = source

    def readable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` from the head, then from the source."""
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_head(stream: BinaryIO, size: int, *, line: bool) -> bytes:
    head = b""
    while len(head) < size and not (line and b"\n" in head):
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def checked_sql_dump(stream: BinaryIO, *, label: str) -> BinaryIO:
    """`stream` after checking its first line is the sandbox line; raises DatabaseError."""
    head = _read_head(stream, _FIRST_LINE_MAX, line=True)
    first = head.split(b"\n", 1)[0].rstrip()
    if first != SANDBOX_LINE:
        raise DatabaseError(
            f"{label}: the dump does not start with the sandbox line drydock writes, so it "
            "may run client commands; refused (restore a snapshot drydock took)")
    return io.BufferedReader(_Prefixed(head, stream))  # type: ignore[return-value]


def checked_pg_archive(stream: BinaryIO, *, label: str,
                       keep: int = 0) -> tuple[bytes, BinaryIO]:
    """`(its first `keep` bytes or fewer, the whole stream)` after checking `stream` is a
    pg_dump custom-format archive; raises DatabaseError."""
    head = _read_head(stream, max(keep, len(PG_MAGIC)), line=False)
    if not head.startswith(PG_MAGIC):
        raise DatabaseError(
            f"{label}: the dump is not a pg_dump custom-format archive; drydock restores only "
            "those, with pg_restore (never a plain SQL dump through psql); refused")
    return head, io.BufferedReader(_Prefixed(head, stream))  # type: ignore[return-value]


@cache
def has_sandbox(tool: str) -> bool:
    """True when the mariadb/mysql client at `tool` offers ``--sandbox``."""
    try:
        out = subprocess.run([tool, "--help"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--sandbox" in out.stdout
