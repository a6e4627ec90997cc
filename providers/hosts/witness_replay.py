"""Ask this machine a refresh's questions again (see `engine/contracts/witness.py`).

Every read is repeated through a fresh `LocalTransport` of the same host name, exactly as
the refresh made it, and its answer digested by the same function; the first read whose
answer differs (or that fails) ends the replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from engine.contracts.witness import Read, answer_of, failed_answer
from providers.hosts.local import LocalTransport

__all__ = ["replay"]


def _ask(t: LocalTransport, op: str, path: str) -> Any:
    """The read `op` of `path` (a plain string: the local transport's system calls take
    one as they take a path, and a million reads need not build a million paths)."""
    p: Any = path
    if op == "walk":
        return list(t.walk(PurePosixPath(path)))
    if op == "stat":
        return t.stat(p)
    if op == "list_dir":
        return t.list_dir(p)
    if op == "realpath":
        return t.realpath(p)
    if op == "sha256":
        return t.sha256(p)
    if op.startswith("read_bytes:"):
        return t.read_bytes(p, limit=int(op.partition(":")[2]))
    raise ValueError(f"unknown read {op!r}")


def replay(reads: Iterable[Read]) -> str | None:
    """None when every read gets the answer it got before; else what differs."""
    hosts: dict[str, LocalTransport] = {}
    for read in reads:
        t = hosts.get(read.host)
        if t is None:
            t = hosts[read.host] = LocalTransport(read.host)
        try:
            answer, _stats = answer_of(read.op, _ask(t, read.op, read.path))
        except OSError as exc:
            answer = failed_answer(exc)
        except ValueError as exc:
            return f"{read.host}:{read.path}: {exc}"
        if answer != read.answer:
            return f"{read.host}:{read.path} changed"
    return None
