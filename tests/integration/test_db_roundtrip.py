"""Back up real PostgreSQL, MariaDB and SQLite databases, drop them, restore, compare rows."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError, DatabaseNotEmpty, DatabaseUnavailable
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)
BLOB = bytes(range(256)) * 40
TABLES = ("am_api", "am_audit", "am_api_cheap")
ROWS = [
    ("pizza", "12.5000", "2026-01-01 10:00:00", BLOB),
    ("weather ☀ météo", "0.9900", "2026-02-28 23:59:59", b""),
    ("nulls", None, None, None),
]

POSTGRES_SCHEMA = [
    "CREATE TABLE am_api (id serial PRIMARY KEY, name text NOT NULL, price numeric(12,4),"
    " created timestamp, icon bytea)",
    "CREATE TABLE am_audit (id serial PRIMARY KEY, api_id int, note text)",
    "CREATE FUNCTION audit_api() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO am_audit (api_id, note) VALUES (NEW.id, 'added ' || NEW.name);"
    " RETURN NEW; END $$",
    "CREATE TRIGGER am_api_audit AFTER INSERT ON am_api FOR EACH ROW"
    " EXECUTE FUNCTION audit_api()",
    "CREATE VIEW am_api_cheap AS SELECT id, name FROM am_api WHERE price < 10",
    "CREATE FUNCTION api_count() RETURNS bigint LANGUAGE sql AS"
    " 'SELECT count(*) FROM am_api'",
]
MARIADB_SCHEMA = [
    "CREATE TABLE am_api (id int AUTO_INCREMENT PRIMARY KEY, name text NOT NULL,"
    " price decimal(12,4), created datetime, icon longblob) ENGINE=InnoDB",
    "CREATE TABLE am_audit (id int AUTO_INCREMENT PRIMARY KEY, api_id int, note text)",
    "CREATE TRIGGER am_api_audit AFTER INSERT ON am_api FOR EACH ROW"
    " INSERT INTO am_audit (api_id, note) VALUES (NEW.id, CONCAT('added ', NEW.name))",
    "CREATE VIEW am_api_cheap AS SELECT id, name FROM am_api WHERE price < 10",
    "CREATE FUNCTION api_count() RETURNS int READS SQL DATA"
    " RETURN (SELECT count(*) FROM am_api)",
]
SQLITE_SCHEMA = [
    "CREATE TABLE am_api (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC,"
    " created TIMESTAMP, icon BLOB)",
    "CREATE TABLE am_audit (id INTEGER PRIMARY KEY, api_id INTEGER, note TEXT)",
    "CREATE TRIGGER am_api_audit AFTER INSERT ON am_api BEGIN"
    " INSERT INTO am_audit (api_id, note) VALUES (NEW.id, 'added ' || NEW.name); END",
    "CREATE VIEW am_api_cheap AS SELECT id, name FROM am_api WHERE price < 10",
]


@dataclass
class Kit:
    """How a test reaches one engine's databases directly, without drydock."""

    engine: str
    target: Callable[[str], DatabaseTarget]
    run: Callable[[DatabaseTarget, list[str], list[tuple[Any, ...]]], None]
    rows: Callable[[DatabaseTarget, str], list[tuple[Any, ...]]]
    schema: list[str]
    insert: str
    count_sql: str


def _pg_run(target: DatabaseTarget, statements: list[str], rows: list[tuple[Any, ...]]) -> None:
    import psycopg

    with psycopg.connect(host=target.host, port=target.port, user=target.user,
                         dbname=target.dbname, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
        for row in rows:
            conn.execute("INSERT INTO am_api (name, price, created, icon) VALUES "
                         "(%s, %s, %s, %s)", row)


def _pg_rows(target: DatabaseTarget, table: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(host=target.host, port=target.port, user=target.user,
                         dbname=target.dbname) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def _my_run(target: DatabaseTarget, statements: list[str], rows: list[tuple[Any, ...]]) -> None:
    import pymysql

    with pymysql.connect(host=target.host, port=target.port, user=target.user,
                         database=target.dbname, autocommit=True, charset="utf8mb4") as conn:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
            for row in rows:
                cur.execute("INSERT INTO am_api (name, price, created, icon) VALUES "
                            "(%s, %s, %s, %s)", row)


def _my_rows(target: DatabaseTarget, table: str) -> list[tuple[Any, ...]]:
    import pymysql

    with pymysql.connect(host=target.host, port=target.port, user=target.user,
                         database=target.dbname, charset="utf8mb4") as conn:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY 1")
            return list(cur.fetchall())


def _sqlite_run(target: DatabaseTarget, statements: list[str],
                rows: list[tuple[Any, ...]]) -> None:
    with closing(sqlite3.connect(target.path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.executemany("INSERT INTO am_api (name, price, created, icon) VALUES (?, ?, ?, ?)",
                         rows)
        conn.commit()


def _sqlite_rows(target: DatabaseTarget, table: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(target.path)) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def _server_target(engine: str, port: int, user: str) -> Callable[[str], DatabaseTarget]:
    return lambda name: DatabaseTarget(engine=engine, host="127.0.0.1", port=port, user=user,
                                       dbname=name)


@pytest.fixture(params=["postgres", "mariadb", "sqlite"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kit]:
    """One engine, with every database the test names dropped afterwards."""
    engine = request.param
    used: list[DatabaseTarget] = []
    if engine == "postgres":
        make = _server_target("postgres", 5432, "postgres")
        kit = Kit(engine, make, _pg_run, _pg_rows, POSTGRES_SCHEMA,
                  "INSERT INTO am_api (name, price) VALUES ('late', 1)", "SELECT api_count()")
    elif engine == "mariadb":
        make = _server_target("mariadb", 3306, "root")
        kit = Kit(engine, make, _my_run, _my_rows, MARIADB_SCHEMA,
                  "INSERT INTO am_api (name, price) VALUES ('late', 1)", "SELECT api_count()")
    else:
        def make(name: str) -> DatabaseTarget:
            return DatabaseTarget(engine="sqlite", path=tmp_path / f"{name}.db")

        kit = Kit(engine, make, _sqlite_run, _sqlite_rows, SQLITE_SCHEMA,
                  "INSERT INTO am_api (name, price) VALUES ('late', 1)",
                  "SELECT count(*) FROM am_api")

    def tracked(name: str) -> DatabaseTarget:
        target = make(name)
        used.append(target)
        return target

    kit.target = tracked
    yield kit
    for target in used:
        engine_for(target.engine).drop(target)


def unique(prefix: str) -> str:
    return f"dd_{prefix}_{uuid.uuid4().hex[:10]}"


def snapshot(repo: LocalRepository, kit: Kit, target: DatabaseTarget) -> tuple[str, str]:
    engine = engine_for(kit.engine)
    snapshot_id = new_snapshot_id(NOW)
    manifest = repo.put("apim-db", snapshot_id, [engine.dump_part(target)], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine=kit.engine),
        created=NOW))
    return snapshot_id, manifest.parts[0].name


def all_rows(kit: Kit, target: DatabaseTarget) -> dict[str, list[tuple[Any, ...]]]:
    return {table: kit.rows(target, table) for table in TABLES}


def create_source(kit: Kit, name: str) -> DatabaseTarget:
    target = kit.target(name)
    if kit.engine == "postgres":
        import psycopg

        with psycopg.connect(host=target.host, port=target.port, user=target.user,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    elif kit.engine == "mariadb":
        import pymysql

        with pymysql.connect(host=target.host, port=target.port, user=target.user) as conn:
            conn.cursor().execute(f"CREATE DATABASE `{name}`")
    kit.run(target, kit.schema, ROWS)
    return target


def test_backup_drop_and_restore_under_the_same_and_a_new_name(kit, tmp_path):
    engine = engine_for(kit.engine)
    source = create_source(kit, unique("src"))
    before = all_rows(kit, source)
    assert len(before["am_api"]) == 3 and len(before["am_audit"]) == 3
    observed = engine.observe(source)
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id, part = snapshot(repo, kit, source)
    assert repo.verify("apim-db", snapshot_id).ok

    engine.drop(source)
    assert engine.observe(source).exists is False
    engine.restore_from(repo, "apim-db", snapshot_id, part, source)
    assert all_rows(kit, source) == before
    assert engine.observe(source).fingerprint == observed.fingerprint

    renamed = kit.target(unique("new"))
    engine.restore_from(repo, "apim-db", snapshot_id, part, renamed)
    assert all_rows(kit, renamed) == before
    assert engine.observe(renamed).fingerprint == observed.fingerprint
    engine.drop(source)
    assert engine.query_scalar(renamed, kit.count_sql) == 3
    kit.run(renamed, [kit.insert], [])
    after = all_rows(kit, renamed)
    assert after["am_api"][-1][0] == 4 and after["am_audit"][-1][1:] == (4, "added late")


def test_restore_refuses_a_database_with_objects_unless_replacing(kit, tmp_path):
    engine = engine_for(kit.engine)
    source = create_source(kit, unique("src"))
    before = all_rows(kit, source)
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id, part = snapshot(repo, kit, source)
    kit.run(source, ["DELETE FROM am_audit"], [])
    with pytest.raises(DatabaseNotEmpty, match="already"):
        engine.restore_from(repo, "apim-db", snapshot_id, part, source)
    assert kit.rows(source, "am_audit") == []
    engine.restore_from(repo, "apim-db", snapshot_id, part, source, replace=True)
    assert all_rows(kit, source) == before


def test_a_failing_dumper_writes_no_snapshot(kit, tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    missing = kit.target(unique("missing"))
    with pytest.raises(DatabaseError, match="does not exist|exited with"):
        snapshot(repo, kit, missing)
    assert repo.list() == []


def test_mariadb_password_reaches_the_client_tools_through_the_environment(tmp_path):
    import pymysql

    user, password = unique("user"), "s3cret-" + uuid.uuid4().hex[:8]
    name = unique("pw")
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
            cur.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
            cur.execute(f"GRANT ALL ON `{name}_copy`.* TO '{user}'@'%'")
            cur.execute(f"CREATE TABLE `{name}`.t (id int PRIMARY KEY, v text)")
            cur.execute(f"INSERT INTO `{name}`.t VALUES (1, 'one'), (2, 'two')")
        engine = engine_for("mariadb")
        target = DatabaseTarget(engine="mariadb", host="127.0.0.1", port=3306, user=user,
                                dbname=name, password=password)
        repo = LocalRepository("vault", tmp_path / "vault")
        snapshot_id = new_snapshot_id(NOW)
        repo.put("s", snapshot_id, [engine.dump_part(target)], SnapshotFields(
            source=SnapshotSource(kind="database", address="database.x"), created=NOW))
        copy = target.with_dbname(f"{name}_copy")
        engine.restore_from(repo, "s", snapshot_id, engine.part_name, copy)
        assert engine.query_scalar(copy, "SELECT group_concat(v ORDER BY id) FROM t") == "one,two"
        manifest_text = (tmp_path / "vault/s" / snapshot_id / "manifest.json").read_text()
        assert password not in manifest_text
        wrong = DatabaseTarget(engine="mariadb", host="127.0.0.1", port=3306, user=user,
                               dbname=name, password="nope")
        with pytest.raises(DatabaseUnavailable, match="Access denied"):
            engine.ping(wrong)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"DROP DATABASE IF EXISTS `{name}_copy`")
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()
