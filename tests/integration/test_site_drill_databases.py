"""A site drill restores each mapped PostgreSQL or MariaDB database into a scratch twin
beside it on the same server, runs its checks there, and drops the twin afterwards; the
live databases at both sites are not touched."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from tests.helpers.world import Env, make_env

pytestmark = pytest.mark.integration

SPEC = """\
databases:
  apim_db: {{engine: {engine}, host: 127.0.0.1, port: {port}, user: {user}, dbname: {live},
            site: primary}}
  apim_db_dr: {{engine: {engine}, host: 127.0.0.1, port: {port}, user: {user},
               dbname: {standby}, site: dr}}
repositories:
  primary-vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups"}}
  dr-vault: {{site: dr, type: local, path: "{{{{ world }}}}/dr/backups"}}
backups:
  apim-db: {{source: {{database: apim_db}}, every: 24h, repository: primary-vault,
            copies: [dr-vault]}}
recover:
  dr: {{databases: {{apim_db: apim_db_dr}}}}
drills:
  site-dr:
    site: dr
    every: 30d
    rto: 1h
    into: {{root: .rehearsal}}
    verify: [{{sql: "SELECT count(*) FROM am_api", expect: "= 2"}}]
"""
ENGINES = {"postgres": (5432, "postgres"), "mariadb": (3306, "root")}
START = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def at(hours: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(hours=hours)).isoformat()}


def target(engine: str, dbname: str) -> DatabaseTarget:
    port, user = ENGINES[engine]
    return DatabaseTarget(engine="mysql" if engine == "mariadb" else engine, host="127.0.0.1",
                          port=port, user=user, dbname=dbname)


def run_sql(t: DatabaseTarget, *statements: str) -> None:
    if t.engine == "postgres":
        import psycopg

        with psycopg.connect(host=t.host, port=t.port, user=t.user, dbname=t.dbname,
                             autocommit=True) as conn:
            for s in statements:
                conn.execute(s)
        return
    import pymysql

    conn = pymysql.connect(host=t.host, port=t.port, user=t.user, database=t.dbname,
                           autocommit=True)
    try:
        with conn.cursor() as cur:
            for s in statements:
                cur.execute(s)
    finally:
        conn.close()


def database_exists(t: DatabaseTarget) -> bool:
    if t.engine == "postgres":
        import psycopg

        with psycopg.connect(host=t.host, port=t.port, user=t.user, dbname="postgres") as c:
            return c.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (t.dbname,)).fetchone() is not None
    import pymysql

    conn = pymysql.connect(host=t.host, port=t.port, user=t.user)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES LIKE %s", (t.dbname,))
            return cur.fetchone() is not None
    finally:
        conn.close()


@pytest.fixture(params=sorted(ENGINES))
def estate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Env, str, dict]]:
    engine = request.param
    suffix = uuid.uuid4().hex[:8]
    names = {"live": f"dd_site_live_{suffix}", "standby": f"dd_site_dr_{suffix}"}
    port, user = ENGINES[engine]
    env = make_env(tmp_path, {}, install=False, extra_yaml=SPEC.format(
        engine=engine, port=port, user=user, **names))
    live = target(engine, names["live"])
    engine_for(live.engine).create(live)
    run_sql(live, "CREATE TABLE am_api (id INTEGER PRIMARY KEY, name VARCHAR(40))",
            "INSERT INTO am_api VALUES (1, 'pizza')", "INSERT INTO am_api VALUES (2, 'pay')")
    try:
        yield env, engine, names
    finally:
        for name in (*names.values(), f"{names['standby']}_drill_site_dr"):
            engine_for(live.engine).drop(target(engine, name))


def test_each_database_is_rehearsed_in_a_scratch_twin_that_is_dropped_afterwards(
        estate: tuple[Env, str, dict]) -> None:
    env, engine, names = estate
    first = env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    assert "site dr holds no snapshot to recover from yet" in first.stdout
    standby = target(engine, names["standby"])
    standby_existed = database_exists(standby)

    proc = env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    assert "rehearsed the recovery of site dr" in proc.stdout + proc.stderr
    doc = json.loads((env.spec / "state" / "t.json").read_text())
    run = doc["resources"]["drill.site-dr"]["data"]["runs"][-1]
    assert run["passed"] is True and run["torn_down"] is True, run
    assert [c["check"] for c in run["checks"]] == [
        "database.apim_db_dr: sql 'SELECT count(*) FROM am_api' = 2"]
    assert not database_exists(target(engine, f"{names['standby']}_drill_site_dr"))
    assert database_exists(standby) == standby_existed
    assert not (env.world / "dr" / ".rehearsal").exists()
