"""What a refresh read through the host transports: each question and a digest of its answer.

While a plan refreshes, the host pool writes every read it passes to a transport (a
`stat`, a directory listing, a file's bytes, a `realpath`, a hash) into the run's
`Witness`: the host, the operation, the path and a digest of the answer. Asking the same
questions again later and getting the same digests means the hosts look exactly as they
did to that refresh (see `engine/plan_memo`). Anything the refresh did that cannot be
asked again the same way (a command run, a stream opened, a non-local host, a secret
resolved) spoils the witness, and nothing is kept.

The answers are digests of plain facts (kind, size, mtime, inode, mode, names, bytes), so
the recording side and the replaying side compute them with the same functions here.
Cheap to import: no models, no providers.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

RECENT_NS = 2_000_000_000
"""A file or folder changed within this long of the refresh is not trusted by its `stat`:
within the clock's granularity it could change again without its mtime moving."""


class _Stat(Protocol):
    kind: str
    size: int
    mtime_ns: int
    inode: int
    mode: int


@dataclass(frozen=True)
class Read:
    """One question a refresh asked a host, and the digest of the answer."""

    host: str
    op: str
    path: str
    answer: str


def stat_answer(st: _Stat | None) -> str:
    """The answer of `stat` (None: absent)."""
    if st is None:
        return "-"
    return f"{st.kind}:{st.size}:{st.mtime_ns}:{st.inode}:{st.mode:o}"


def entries_answer(entries: Iterable[tuple[str, _Stat]]) -> str:
    """The answer of a listing or a walk: every name with its stat, in order."""
    digest = hashlib.sha256()
    for name, st in entries:
        digest.update(f"{name}\0{stat_answer(st)}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def bytes_answer(data: bytes) -> str:
    """The answer of a read: the bytes' sha256."""
    return hashlib.sha256(data).hexdigest()


class Witness:
    """The reads of one refresh (thread-safe), or why they cannot be trusted later."""

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns
        self.reads: list[Read] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def saw(self, host: str, op: str, path: object, answer: str,
            stats: Iterable[_Stat | None] = ()) -> None:
        """Keep one read; `stats` are the file stats its answer rests on (a stat changed
        within RECENT_NS of the refresh spoils the witness)."""
        for st in stats:
            if st is not None and st.mtime_ns > self.now_ns - RECENT_NS:
                self.spoil(f"{host}:{path} changed moments ago")
        with self._lock:
            self.reads.append(Read(host, op, str(path), answer))

    def spoil(self, reason: str) -> None:
        """The refresh did something that cannot be asked again the same way."""
        with self._lock:
            if len(self.problems) < 10:
                self.problems.append(reason)

    @property
    def trusted(self) -> bool:
        """Whether every read can be asked again to the same effect."""
        return not self.problems


def failed_answer(exc: OSError) -> str:
    """The answer of a read that failed: its kind of failure."""
    return f"!{type(exc).__name__}:{exc.errno}"


def answer_of(op: str, result: Any) -> tuple[str, list[Any]]:
    """The answer digest of `op`'s `result` and the stats it rests on: a listing's
    entries have `.name` and `.stat`, a walk yields `(path, stat)`, a read
    (`read_bytes:<limit>`) gives bytes."""
    if op == "stat":
        return stat_answer(result), [result]
    if op == "list_dir":
        pairs = [(e.name, e.stat) for e in result]
        return entries_answer(pairs), [st for _n, st in pairs]
    if op == "walk":
        pairs = [(str(name), st) for name, st in result]
        return entries_answer(pairs), [st for _n, st in pairs]
    if op.startswith("read_bytes:"):
        return bytes_answer(result), []
    if op in ("realpath", "sha256"):
        return str(result), []  # itself a path or a digest
    raise ValueError(f"no answer for {op!r}")
