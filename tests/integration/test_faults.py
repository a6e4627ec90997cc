"""Real faults in the middle of a run: a database that goes down, a disk that fills (for a
snapshot and for the state), a repository folder that disappears mid-copy. Each ends in
one line and exit 1, and nothing is lost: the previous state reads back with a valid
checksum and every kept snapshot still verifies."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository
from state.local import open_local_state
from tests.helpers.faults import Forwarder, fill, small_disk
from tests.helpers.world import Env, make_env, seed_apis
from tests.providers.repositories.test_repository_contract import BIG, put

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SQLITE = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 5},
            repository: primary-vault, copies: [dr-vault]}
"""


def at(days: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(days=days)).isoformat()}


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def state_of(env: Env) -> tuple[int, list[str]]:
    """The state's serial and addresses, read through the manager (checksum checked)."""
    doc = open_local_state(env.spec / "state" / "t.json", "t").read()
    return doc.serial, sorted(doc.resources)


def verified_snapshots(root: Path, name: str) -> list[str]:
    repo = LocalRepository(name, root)
    found = repo.list()
    assert all(repo.verify(m.series, m.id).ok for m in found)
    return [m.id for m in found]


def test_a_database_that_goes_down_during_the_backup(tmp_path: Path):
    name = f"dd_down_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    proxy = Forwarder(("127.0.0.1", 5432))
    try:
        app_db = (f"  app: {{engine: postgres, host: 127.0.0.1, port: {proxy.port}, "
                  f"user: postgres, dbname: {name}, site: primary}}\n")
        env = make_env(tmp_path, {}, extra_yaml=SQLITE.replace(
            "repositories:", app_db + "repositories:") + (
            "  app: {source: {database: app}, every: 24h, repository: primary-vault}\n"))
        seed_apis(env.world / "primary" / "apim.db")
        env.run("apply", ".", "--auto-approve", env=at(0), check=0)
        before = state_of(env)
        kept = verified_snapshots(env.world / "primary" / "backups", "primary-vault")
        env.run("plan", ".", "-o", "plan.json", env=at(1), check=0)
        proxy.close()  # the port is closed for real from here on
        proc = env.run("apply", "plan.json", "--env", ".", env=at(1))
        assert proc.returncode == 1
        (line,) = error_lines(proc)
        assert "backup.app/create" in line and "not reachable" in line
        serial, addresses = state_of(env)
        assert addresses == before[1] and serial >= before[0]
        assert set(kept) <= set(verified_snapshots(env.world / "primary" / "backups",
                                                   "primary-vault"))
    finally:
        proxy.close()
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


def grow(db: Path, megabytes: int) -> None:
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE IF NOT EXISTS blobs (data BLOB)")
        con.executemany("INSERT INTO blobs VALUES (?)",
                        [(os.urandom(1 << 20),) for _ in range(megabytes)])
    con.close()


def test_a_full_disk_under_the_repository_fails_the_snapshot_only(tmp_path: Path):
    env = make_env(tmp_path, {}, extra_yaml=SQLITE)
    seed_apis(env.world / "primary" / "apim.db")
    with small_disk(env.world / "primary" / "backups", "2m"):
        env.run("apply", ".", "--auto-approve", env=at(0), check=0)
        before = state_of(env)
        kept = verified_snapshots(env.world / "primary" / "backups", "primary-vault")
        grow(env.world / "primary" / "apim.db", 4)  # incompressible, larger than the disk
        proc = env.run("apply", ".", "--auto-approve", env=at(1))
        assert proc.returncode == 1
        (line,) = error_lines(proc)
        assert "backup.apim-db/create" in line and "No space left on device" in line
        assert verified_snapshots(env.world / "primary" / "backups", "primary-vault") == kept
        assert LocalRepository("primary-vault", env.world / "primary" / "backups"
                               ).leftovers() == []  # the failed write removed itself
        serial, addresses = state_of(env)
        assert addresses == before[1] and serial >= before[0]


def test_a_full_disk_under_the_state_keeps_the_previous_state(tmp_path: Path):
    env = make_env(tmp_path, {}, extra_yaml=SQLITE)
    seed_apis(env.world / "primary" / "apim.db")
    with small_disk(env.spec / "state", "1m") as state_dir:
        env.run("apply", ".", "--auto-approve", env=at(0), check=0)
        before = (env.spec / "state" / "t.json").read_bytes()
        kept = verified_snapshots(env.world / "primary" / "backups", "primary-vault")
        filler = fill(state_dir)
        proc = env.run("apply", ".", "--auto-approve", env=at(1))
        assert proc.returncode == 1
        lines = error_lines(proc)
        assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr
        assert (env.spec / "state" / "t.json").read_bytes() == before
        state_of(env)  # still reads, checksum valid
        assert set(kept) <= set(verified_snapshots(env.world / "primary" / "backups",
                                                   "primary-vault"))
        filler.unlink()
        env.run("apply", ".", "--auto-approve", env=at(1), check=0)  # converges afterwards
        env.run("plan", ".", "--detailed-exitcode", env=at(1), check=0)


class _Vanishing:
    """A stored stream that removes the destination repository half way (the real
    removal; only its timing is arranged, which cannot be caused otherwise)."""

    def __init__(self, stream, doomed: Path) -> None:
        self._stream = stream
        self._doomed = doomed
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(min(size, 1 << 16) if size and size > 0 else 1 << 16)
        self._read += len(data)
        if self._read > (1 << 16) and self._doomed.exists():
            shutil.rmtree(self._doomed)
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()

    def close(self) -> None:
        self._stream.close()


def test_a_repository_folder_that_disappears_mid_copy(tmp_path: Path):
    source = LocalRepository("primary-vault", tmp_path / "primary")
    keep = put(source, data={"big.dump": BIG})
    dest_root = tmp_path / "dr"
    dest = LocalRepository("dr-vault", dest_root)
    first = put(source, data={"big.dump": BIG})
    dest.copy_from(source, "apim-db", first)
    original = source._open_info
    source._open_info = lambda s, i, info: _Vanishing(original(s, i, info), dest_root)  # type: ignore[method-assign]
    with pytest.raises(RepositoryError) as caught:
        LocalRepository("dr-vault", dest_root).copy_from(source, "apim-db", keep)
    assert "\n" not in str(caught.value) and "repository dr-vault" in str(caught.value)
    source._open_info = original  # type: ignore[method-assign]
    assert verified_snapshots(tmp_path / "primary", "primary-vault") == sorted([keep, first])
    again = LocalRepository("dr-vault", dest_root)
    assert again.list() == []  # gone with its folder; nothing half-written is visible
    again.copy_from(source, "apim-db", keep)  # a retry recreates and marks it
    assert verified_snapshots(dest_root, "dr-vault") == [keep]
    assert json.loads((dest_root / ".drydock-repository").read_text())["repository"] == "dr-vault"
