"""Backups of databases shaped like WSO2's, restored and compared table by table.

The schemas are generated (tests/helpers/schema_*.py) in the shape of WSO2's
dbscripts: 240 tables with foreign keys, indexes, views, triggers, routines, an event,
latin1 tables next to utf8mb4 ones (MariaDB), enum and domain types, a second schema
(PostgreSQL), non-ASCII identifiers, multi-MiB blobs and large objects. Each is backed up
with drydock's engine into a repository, then restored twice — under a new name, and
over the source itself (which holds every object, so through a staging copy) — and what
the server then holds is compared with what it held before, kind by kind and table by
table. Real servers on 127.0.0.1.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id
from tests.helpers import schema_mariadb, schema_postgres

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)


def _mariadb_admin() -> Any:
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True,
                           charset="utf8mb4")


def _mariadb_picture(name: str) -> dict[str, Any]:
    import pymysql

    with pymysql.connect(host="127.0.0.1", port=3306, user="root", database=name,
                         charset="utf8mb4") as conn:
        return schema_mariadb.picture(conn, name)


def _postgres_connect(name: str) -> Any:
    import psycopg

    return psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=name,
                           autocommit=True)


def _postgres_picture(name: str) -> dict[str, Any]:
    with _postgres_connect(name) as conn:
        return schema_postgres.picture(conn)


def _create_mariadb(name: str) -> None:
    with _mariadb_admin() as admin, admin.cursor() as cur:
        # the server's own default collation, not the one drydock creates databases with
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_general_ci")
    import pymysql

    with pymysql.connect(host="127.0.0.1", port=3306, user="root", database=name,
                         autocommit=True, charset="utf8mb4") as conn:
        schema_mariadb.build(conn)


def _create_postgres(name: str) -> None:
    with _postgres_connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    with _postgres_connect(name) as conn:
        schema_postgres.build(conn)


ENGINES: dict[str, tuple[str, int, str, Callable[[str], None], Callable[[str], dict]]] = {
    "mariadb": ("mariadb", 3306, "root", _create_mariadb, _mariadb_picture),
    "postgres": ("postgres", 5432, "postgres", _create_postgres, _postgres_picture),
}


def normalised(picture: dict[str, Any], name: str) -> str:
    """The picture as text with the database's own name taken out (MariaDB writes it
    into view definitions), so databases of other names compare."""
    return repr(picture).replace(name, "<db>")


def first_difference(before: dict[str, Any], after: dict[str, Any]) -> str:
    for kind in before:
        if kind == "rows":
            for table, rows in before["rows"].items():
                if after["rows"].get(table) != rows:
                    return f"table {table}: {len(rows)} rows before, " \
                           f"{len(after['rows'].get(table) or [])} after, or different values"
            if set(after["rows"]) != set(before["rows"]):
                return f"tables differ: {sorted(set(after['rows']) ^ set(before['rows']))}"
        elif before[kind] != after.get(kind):
            missing = [x for x in before[kind] if x not in (after.get(kind) or [])][:3]
            return f"{kind}: first differing {missing}"
    return "no difference"


@pytest.fixture(params=sorted(ENGINES))
def source(request: pytest.FixtureRequest) -> Iterator[tuple[str, DatabaseTarget, list]]:
    """A WSO2-shaped database on one engine; every database the test makes is dropped."""
    engine, port, user, create, _ = ENGINES[request.param]
    name = f"dd_wso2_{uuid.uuid4().hex[:8]}"
    made: list[DatabaseTarget] = []
    target = DatabaseTarget(engine=engine, host="127.0.0.1", port=port, user=user, dbname=name)
    made.append(target)
    try:
        create(name)
        yield request.param, target, made
    finally:
        for t in made:
            engine_for(engine).drop(t)


@pytest.mark.slow(12)
def test_wso2_shaped_database_comes_back_table_by_table(source, tmp_path: Path) -> None:
    kind, target, made = source
    picture = ENGINES[kind][4]
    engine = engine_for(target.engine)
    before = picture(target.dbname)
    assert len(before["rows"]) >= 240
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id = new_snapshot_id(NOW)
    repo.put("apim-db", snapshot_id, [engine.dump_part(target)], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine=kind),
        created=NOW))

    renamed = target.with_dbname(f"{target.dbname}_new")
    made.append(renamed)
    engine.restore_from(repo, "apim-db", snapshot_id, engine.part_name, renamed)
    after = picture(renamed.dbname)
    assert normalised(after, renamed.dbname) == normalised(before, target.dbname), \
        first_difference(before, after)

    # the source still holds every object: replaced through a staging copy
    engine.restore_from(repo, "apim-db", snapshot_id, engine.part_name, target, replace=True)
    after = picture(target.dbname)
    assert after == before, first_difference(before, after)


def test_a_latin1_postgres_database_is_restored_as_latin1(tmp_path: Path) -> None:
    """The archive's DATABASE entry gives the encoding and locale the target is created
    with; without it the text would land in the server's default (UTF8) database."""
    name = f"dd_latin1_{uuid.uuid4().hex[:8]}"
    target = DatabaseTarget(engine="postgres", host="127.0.0.1", port=5432, user="postgres",
                            dbname=name)
    copy = target.with_dbname(f"{name}_copy")
    engine = engine_for("postgres")
    try:
        with _postgres_connect("postgres") as admin:
            admin.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'LATIN1' "
                          "LC_COLLATE 'C' LC_CTYPE 'C'")
        with _postgres_connect(name) as conn:
            conn.execute("CREATE TABLE um_user (id INTEGER PRIMARY KEY, name VARCHAR(40))")
            conn.execute("INSERT INTO um_user VALUES (1, 'café'), (2, 'Ångström ½')")
        before = _postgres_picture(name)
        assert before["database"] == [("LATIN1", "C", "C")]
        repo = LocalRepository("vault", tmp_path / "vault")
        snapshot_id = new_snapshot_id(NOW)
        repo.put("um-db", snapshot_id, [engine.dump_part(target)], SnapshotFields(
            source=SnapshotSource(kind="database", address="database.um_db",
                                  engine="postgres"), created=NOW))
        engine.restore_from(repo, "um-db", snapshot_id, engine.part_name, copy)
        assert _postgres_picture(copy.dbname) == before
    finally:
        engine.drop(target)
        engine.drop(copy)
