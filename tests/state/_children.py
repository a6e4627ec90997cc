"""Entry points run in separate processes by the state tests (spawned, then killed)."""

from __future__ import annotations

from multiprocessing.connection import Connection
from pathlib import Path

from state.errors import StateConflictError
from state.journal import Journal
from state.local import LocalBlobStore
from state.lock import LocalLock


def hold_local_lock(state_path: str, conn: Connection) -> None:
    """Take the local lock, report its record, then block until killed."""
    info = LocalLock(Path(state_path)).acquire("apply")
    conn.send(info.model_dump_json())
    conn.recv()


def crash_mid_run(journal_path: str, conn: Connection) -> None:
    """Journal one finished action and one started action, report, then block until killed."""
    journal = Journal.open(Path(journal_path))
    journal.begin_run("run-1", "plan-1")
    journal.intent("run-1", "a1", "server.gw-1", "server.stop")
    journal.result("run-1", "a1", "ok", "stopped")
    journal.intent("run-1", "a2", "server.gw-1", "server.update")
    conn.send("intent written")
    conn.recv()


def race_put(root: str, key: str, expect_version: str, payload: bytes, conn: Connection) -> None:
    """Wait for the start signal, try one compare-and-swap put, report whether it won."""
    store = LocalBlobStore(Path(root))
    conn.recv()
    try:
        store.put(key, payload, expect_version=expect_version)
    except StateConflictError:
        conn.send("lost")
        return
    conn.send("won")


def report_heavy_imports(conn: Connection) -> None:
    """Import every state module and report which heavy libraries got loaded."""
    import sys

    import state.document
    import state.journal
    import state.local
    import state.manager
    import state.s3  # noqa: F401

    conn.send(sorted(name for name in ("boto3", "botocore", "moto") if name in sys.modules))
