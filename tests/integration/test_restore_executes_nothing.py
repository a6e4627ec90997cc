"""Dumps edited in a repository never run client commands, on real MariaDB and PostgreSQL.

The attacker can write the repository (and so recompute every sha256 in a manifest); the
proof that nothing ran is a file the injected command would have created.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError
from providers.databases.sandbox import SANDBOX_LINE
from providers.repositories.base import PartSource
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"dd_{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def mariadb() -> Iterator[list[DatabaseTarget]]:
    """MariaDB targets the test names, dropped afterwards."""
    used: list[DatabaseTarget] = []
    yield used
    for target in used:
        engine_for("mysql").drop(target)


def my_target(used: list[DatabaseTarget], name: str) -> DatabaseTarget:
    target = DatabaseTarget(engine="mysql", host="127.0.0.1", port=3306, user="root",
                            dbname=name)
    used.append(target)
    return target


def store(repo: LocalRepository, data: bytes, *, engine: str) -> tuple[str, str]:
    """Put `data` as a dump part, as anyone who can write the repository can."""
    sid = new_snapshot_id(NOW)
    part = PartSource(name="database.sql", kind="dump", write=lambda sink: sink.write(data))
    repo.put("apim-db", sid, [part], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine=engine),
        created=NOW))
    return sid, "database.sql"


def real_mariadb_dump(repo: LocalRepository, used: list[DatabaseTarget]) -> bytes:
    import pymysql

    source = my_target(used, unique("src"))
    engine = engine_for("mysql")
    engine.create(source)
    with pymysql.connect(host="127.0.0.1", user="root", database=source.dbname,
                         autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE am_api (id int PRIMARY KEY, name text)")
        cur.execute("INSERT INTO am_api VALUES (1, 'pizza')")
    sid = new_snapshot_id(NOW)
    repo.put("apim-db", sid, [engine.dump_part(source)], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine="mysql"),
        created=NOW))
    with repo.open_part("apim-db", sid, "database.sql") as stream:
        return stream.read()


def test_every_mariadb_dump_starts_with_the_sandbox_line(tmp_path, mariadb):
    dump = real_mariadb_dump(LocalRepository("vault", tmp_path / "vault"), mariadb)
    assert dump.split(b"\n", 1)[0].rstrip() == SANDBOX_LINE


def test_a_dump_without_its_sandbox_line_is_refused_and_runs_nothing(tmp_path, mariadb):
    repo = LocalRepository("vault", tmp_path / "vault")
    dump = real_mariadb_dump(repo, mariadb)
    proof = tmp_path / "x"
    forged = dump.split(b"\n", 1)[1] + f"\\! touch {proof}\n".encode()
    sid, part = store(repo, forged, engine="mysql")
    target = my_target(mariadb, unique("dst"))
    with pytest.raises(DatabaseError) as caught:
        engine_for("mysql").restore_from(repo, "apim-db", sid, part, target)
    assert "does not start with the sandbox line" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not proof.exists()
    assert not engine_for("mysql").observe(target).exists  # the server was not touched


def test_a_command_after_a_forged_sandbox_line_is_refused_by_the_client(tmp_path, mariadb):
    repo = LocalRepository("vault", tmp_path / "vault")
    dump = real_mariadb_dump(repo, mariadb)
    proof = tmp_path / "x"
    forged = dump + f"\\! touch {proof}\n".encode()
    sid, part = store(repo, forged, engine="mysql")
    target = my_target(mariadb, unique("dst"))
    with pytest.raises(DatabaseError, match="restore: mariadb exited with 1"):
        engine_for("mysql").restore_from(repo, "apim-db", sid, part, target)
    assert not proof.exists()
    assert not engine_for("mysql").observe(target).exists  # created, then dropped again


def test_the_same_forged_dump_would_run_its_command_in_a_client_without_sandbox(tmp_path,
                                                                               mariadb):
    """The control: what the refusals above prevent is real with this client."""
    name = unique("ctl")
    my_target(mariadb, name)
    engine_for("mysql").create(my_target(mariadb, name))
    proof = tmp_path / "x"
    subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", "--protocol=TCP", "--batch", name],
                   input=f"\\! touch {proof}\n".encode(), check=True)
    assert proof.exists()


@pytest.fixture
def postgres() -> Iterator[list[DatabaseTarget]]:
    used: list[DatabaseTarget] = []
    yield used
    for target in used:
        engine_for("postgres").drop(target)


def pg_target(used: list[DatabaseTarget], name: str) -> DatabaseTarget:
    target = DatabaseTarget(engine="postgres", host="127.0.0.1", port=5432, user="postgres",
                            dbname=name)
    used.append(target)
    return target


def pg(sql: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=dbname,
                         autocommit=True) as conn:
        cur = conn.execute(sql)  # type: ignore[call-overload]
        return cur.fetchall() if cur.description else []


def test_a_plain_sql_dump_with_shell_escapes_is_refused_for_postgres(tmp_path, postgres):
    repo = LocalRepository("vault", tmp_path / "vault")
    proof = tmp_path / "x"
    forged = (f"\\! touch {proof}\n\\o | touch {proof}\n"
              f"\\copy (SELECT 1) TO PROGRAM 'touch {proof}'\nSELECT 1 \\g | touch {proof}\n"
              ).encode()
    sid, part = store(repo, forged, engine="postgres")
    target = pg_target(postgres, unique("dst"))
    with pytest.raises(DatabaseError) as caught:
        engine_for("postgres").restore_from(repo, "apim-db", sid, part, target)
    assert "not a pg_dump custom-format archive" in str(caught.value)
    assert not proof.exists()
    assert not engine_for("postgres").observe(target).exists


@pytest.fixture
def owner_role() -> Iterator[str]:
    role = unique("owner")
    pg(f'CREATE ROLE "{role}" NOLOGIN')
    yield role
    pg(f'DROP OWNED BY "{role}"')
    pg(f'DROP ROLE IF EXISTS "{role}"')


def pg_source(used: list[DatabaseTarget]) -> DatabaseTarget:
    source = pg_target(used, unique("src"))
    pg(f'CREATE DATABASE "{source.dbname}"')
    pg("CREATE TABLE am_api (id int PRIMARY KEY, name text); "
       "INSERT INTO am_api VALUES (1, 'pizza')", source.dbname or "")
    return source


def test_postgres_restores_as_the_target_owner_not_as_the_superuser(tmp_path, owner_role,
                                                                    postgres):
    repo = LocalRepository("vault", tmp_path / "vault")
    engine = engine_for("postgres")
    source = pg_source(postgres)
    sid = new_snapshot_id(NOW)
    repo.put("apim-db", sid, [engine.dump_part(source)], SnapshotFields(
        source=SnapshotSource(kind="database", address="database.apim_db", engine="postgres"),
        created=NOW))
    empty = pg_target(postgres, unique("empty"))
    pg(f'CREATE DATABASE "{empty.dbname}" OWNER "{owner_role}"')
    engine.restore_from(repo, "apim-db", sid, "database.dump", empty)
    owners = pg("SELECT tableowner FROM pg_tables WHERE tablename = 'am_api'", empty.dbname or "")
    assert owners == [(owner_role,)]
    # replacing a database with objects: the staging copy belongs to the owner too
    engine.restore_from(repo, "apim-db", sid, "database.dump", empty, replace=True)
    assert pg(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = "
              f"'{empty.dbname}'") == [(owner_role,)]
    owners = pg("SELECT tableowner FROM pg_tables WHERE tablename = 'am_api'", empty.dbname or "")
    assert owners == [(owner_role,)]
    assert pg("SELECT name FROM am_api", empty.dbname or "") == [("pizza",)]


def test_a_client_without_sandbox_mode_is_refused(tmp_path, mariadb, monkeypatch):
    """Oracle's mysql client (no --sandbox) cannot be installed beside MariaDB's here, so
    a stand-in that answers --help like it sits first on PATH; it must never be fed SQL."""
    from providers.databases import sandbox

    repo = LocalRepository("vault", tmp_path / "vault")
    dump = real_mariadb_dump(repo, mariadb)
    sid, part = store(repo, dump, engine="mysql")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fed = tmp_path / "fed"
    client = bin_dir / "mariadb"
    client.write_text(f"#!/bin/sh\n[ \"$1\" = --help ] && echo '  --batch  Don'\"'\"'t use "
                      f"history file.' && exit 0\ncat > {fed}\n")
    client.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    sandbox.has_sandbox.cache_clear()
    target = my_target(mariadb, unique("dst"))
    try:
        with pytest.raises(DatabaseError, match="has no --sandbox mode"):
            engine_for("mysql").restore_from(repo, "apim-db", sid, part, target)
    finally:
        sandbox.has_sandbox.cache_clear()
    assert not fed.exists()
