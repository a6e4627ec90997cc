"""SQLite engine against real database files and a real local repository."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError, DatabaseNotEmpty, DatabaseUnavailable
from providers.repositories.base import IntegrityError
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)


def make_db(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            PRAGMA journal_mode=WAL;
            CREATE TABLE am_api (id INTEGER PRIMARY KEY, name TEXT, price NUMERIC,
                                 created TIMESTAMP, icon BLOB);
            CREATE VIEW am_api_names AS SELECT name FROM am_api;
            CREATE TABLE am_audit (api INTEGER, note TEXT);
            CREATE TRIGGER am_api_audit AFTER INSERT ON am_api
              BEGIN INSERT INTO am_audit VALUES (new.id, 'added'); END;
            """
        )
        conn.executemany(
            "INSERT INTO am_api (name, price, created, icon) VALUES (?, ?, ?, ?)",
            [("pizza", 12.5, "2026-01-01 10:00:00", b"\x00\xff" * 50),
             ("weather", 0, "2026-02-01 10:00:00", None)],
        )
        conn.commit()


def rows(path: Path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(path)) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("am_api", "am_audit", "am_api_names")}


def backup(tmp_path: Path, target: DatabaseTarget) -> tuple[LocalRepository, str]:
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id = new_snapshot_id(NOW)
    engine = engine_for("sqlite")
    repo.put("apim-db", snapshot_id, [engine.dump_part(target)], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine="sqlite"),
        created=NOW))
    return repo, snapshot_id


def test_backup_drop_restore_gives_the_same_rows_and_fingerprint(tmp_path):
    source = tmp_path / "apim.db"
    make_db(source)
    target = DatabaseTarget(engine="sqlite", path=source)
    engine = engine_for("sqlite")
    seen = engine.observe(target)
    before = rows(source)
    repo, snapshot_id = backup(tmp_path, target)
    assert repo.get_manifest("apim-db", snapshot_id).parts[0].kind == "sqlite"
    engine.drop(target)
    assert engine.observe(target).exists is False
    engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", target)
    assert rows(source) == before
    assert engine.observe(target).fingerprint == seen.fingerprint
    elsewhere = DatabaseTarget(engine="sqlite", path=tmp_path / "scratch" / "copy.db")
    engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", elsewhere)
    assert rows(tmp_path / "scratch" / "copy.db") == before
    assert engine.query_scalar(elsewhere, "SELECT count(*) FROM am_api") == 2


def test_fingerprint_follows_rows_and_schema(tmp_path):
    path = tmp_path / "apim.db"
    make_db(path)
    engine = engine_for("sqlite")
    target = DatabaseTarget(engine="sqlite", path=path)
    first = engine.observe(target)
    assert first.exists and first.size_bytes and first.fingerprint.startswith("sha256:")
    assert engine.observe(target) == first
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO am_audit VALUES (9, 'x')")
        conn.commit()
    assert engine.observe(target).fingerprint != first.fingerprint


def test_restore_refuses_an_existing_database_unless_replacing(tmp_path):
    path = tmp_path / "apim.db"
    make_db(path)
    engine = engine_for("sqlite")
    target = DatabaseTarget(engine="sqlite", path=path)
    repo, snapshot_id = backup(tmp_path, target)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM am_api")
        conn.commit()
    with pytest.raises(DatabaseNotEmpty, match=f"sqlite {path}: already exists"):
        engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", target)
    assert engine.query_scalar(target, "SELECT count(*) FROM am_api") == 0
    engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", target, replace=True)
    assert engine.query_scalar(target, "SELECT count(*) FROM am_api") == 2
    missing = DatabaseTarget(engine="sqlite", path=tmp_path / "none.db")
    with pytest.raises(DatabaseError, match="does not exist"):
        engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", missing,
                            create=False)


def test_a_corrupted_part_is_refused_before_the_target_is_touched(tmp_path):
    path = tmp_path / "apim.db"
    make_db(path)
    engine = engine_for("sqlite")
    target = DatabaseTarget(engine="sqlite", path=path)
    repo, snapshot_id = backup(tmp_path, target)
    stored = tmp_path / "vault/apim-db" / snapshot_id / "database.sqlite.zst"
    data = bytearray(stored.read_bytes())
    data[-10] ^= 0x01
    stored.write_bytes(bytes(data))
    scratch = DatabaseTarget(engine="sqlite", path=tmp_path / "scratch.db")
    with pytest.raises(IntegrityError, match="part database.sqlite"):
        engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite", scratch)
    assert not (tmp_path / "scratch.db").exists()
    with pytest.raises(IntegrityError), repo.open_part(
            "apim-db", snapshot_id, "database.sqlite") as stream:
        engine.restore(scratch, stream)
    assert not (tmp_path / "scratch.db").exists()
    assert list(tmp_path.glob(".scratch.db*")) == []


def test_missing_directory_is_unavailable_and_missing_file_cannot_be_backed_up(tmp_path):
    engine = engine_for("sqlite")
    with pytest.raises(DatabaseUnavailable, match="does not exist; check the path"):
        engine.ping(DatabaseTarget(engine="sqlite", path=tmp_path / "no" / "x.db"))
    repo = LocalRepository("vault", tmp_path / "vault")
    part = engine.dump_part(DatabaseTarget(engine="sqlite", path=tmp_path / "x.db"))
    with pytest.raises(DatabaseError, match="does not exist; nothing to back up"):
        repo.put("s", new_snapshot_id(NOW), [part], SnapshotFields(
            source=SnapshotSource(kind="database", address="database.x"), created=NOW))
    assert repo.list() == []
