"""Drills run for real: restore into scratch SQLite, PostgreSQL and MariaDB databases and
scratch folders, run the checks, time the restore against the RTO, always tear down."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import ALSO, ActionContext, ActionFailed
from engine.planners.base import PlanContext
from engine.planners.drills import plan_drills
from engine.spec.loader import LoadedSpec, load_spec
from providers.backup_sources import backup_paths
from providers.backups.provider import series_listing
from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.drills.provider import DrillProvider
from providers.drills.runner import run_drill
from providers.hosts.local import LocalTransport
from providers.hosts.pool import HostPool
from providers.repositories.factory import open_repository
from providers.repositories.manifest import SnapshotFields, SnapshotSource

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)
BASE = """\
environment: t
sites: {a: {}}
hosts: {h: {site: a, root: world/h}}
products: {p-1: {pack: world/p.zip}}
servers: {gw: {host: h, product: p-1, home: opt/gw}}
repositories:
  vault: {type: local, site: a, path: world/vault}
"""


def load(tmp_path: Path, text: str) -> LoadedSpec:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "t.yaml").write_text(BASE + text)
    return load_spec(tmp_path)


def drill_run_action(spec: LoadedSpec, series: str) -> Action:
    repo = open_repository(spec, "vault")
    observed = {f"backup.{series}": ObservedResource(
        address=f"backup.{series}", exists=True,
        facts={"catalog": {"vault": series_listing(repo, series)}})}
    actions, warnings = plan_drills(PlanContext(spec=spec, plan_id="plan1", now=NOW,
                                                observed=observed), [])
    assert not warnings, warnings
    return actions[0]


def context(spec: LoadedSpec) -> ActionContext:
    def resolve(_ref: object) -> str:
        raise AssertionError("no secrets in these specs")

    return ActionContext(spec=spec, now=NOW, run_id="run1", resolve_secret=resolve)


def snapshot_database(spec: LoadedSpec, target: DatabaseTarget, series: str = "db") -> str:
    engine = engine_for(target.engine)
    fields = SnapshotFields(source=SnapshotSource(kind="database", address="database.db",
                                                  engine=target.engine), created=NOW)
    open_repository(spec, "vault").put(series, "snap1", [engine.dump_part(target)], fields)
    return "snap1"


SQLITE = """\
databases: {{db: {{engine: sqlite, path: world/db.sqlite}}}}
backups: {{db: {{source: {{database: db}}, every: 24h, repository: vault}}}}
drills:
  d:
    backup: db
    every: 7d
    into: {{database: {{engine: sqlite, path: world/scratch/d.sqlite}}}}
    verify: [{{sql: "SELECT count(*) FROM am_api", expect: "{expect}"}}]
    rto: {rto}
"""


def sqlite_setup(tmp_path: Path, *, expect: str = "== 3", rto: str = "5m") -> LoadedSpec:
    spec = load(tmp_path, SQLITE.format(expect=expect, rto=rto))
    path = tmp_path / "world" / "db.sqlite"
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE am_api (id INTEGER PRIMARY KEY, name TEXT);"
                      "INSERT INTO am_api (name) VALUES ('a'), ('b'), ('c');")
    con.commit()
    con.close()
    snapshot_database(spec, DatabaseTarget(engine="sqlite", path=path))
    return spec


def test_sqlite_drill_passes_and_removes_the_scratch_file(tmp_path: Path) -> None:
    spec = sqlite_setup(tmp_path)
    run = run_drill(context(spec), drill_run_action(spec, "db").params)
    assert run.passed and run.within_rto and run.torn_down and run.error is None
    assert [(c.passed, c.detail) for c in run.checks] == [(True, "got 3, expected == 3")]
    assert run.seconds > 0 and run.started == NOW
    assert not (tmp_path / "world" / "scratch" / "d.sqlite").exists()


def test_a_failing_check_fails_the_drill_and_still_tears_down(tmp_path: Path) -> None:
    spec = sqlite_setup(tmp_path, expect=">= 10")
    run = run_drill(context(spec), drill_run_action(spec, "db").params)
    assert not run.passed and run.within_rto
    assert run.checks[0].detail == "got 3, expected >= 10"
    assert "check sql 'SELECT count(*) FROM am_api' >= 10 failed" in run.reason()
    assert not (tmp_path / "world" / "scratch" / "d.sqlite").exists()


def test_a_zero_rto_is_never_met(tmp_path: Path) -> None:
    spec = sqlite_setup(tmp_path, rto="0s")
    run = run_drill(context(spec), drill_run_action(spec, "db").params)
    assert all(c.passed for c in run.checks)
    assert not run.within_rto and not run.passed
    assert "over the RTO of 0s" in run.reason()


def test_a_scratch_target_that_holds_data_is_refused_and_left_alone(tmp_path: Path) -> None:
    spec = sqlite_setup(tmp_path)
    taken = tmp_path / "world" / "scratch" / "d.sqlite"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"someone else's file")
    run = run_drill(context(spec), drill_run_action(spec, "db").params)
    assert not run.passed and run.error is not None and "empty scratch target" in run.error
    assert taken.read_bytes() == b"someone else's file"


def test_the_provider_records_runs_and_verified_snapshots_then_judges(tmp_path: Path) -> None:
    spec = sqlite_setup(tmp_path)
    action = drill_run_action(spec, "db")
    provider = DrillProvider()
    outcome = provider.run(action, context(spec))
    also = outcome.data[ALSO]
    assert [r["snapshot"] for r in also["drill.d"]["runs"]] == ["snap1"]
    assert also["backup.db"] == {"verified": {"snap1": NOW.isoformat()}}
    assert Path(action.params["report"]).is_file()
    verdict = Action(id="drill.d/verdict", address="drill.d", type="drill.verdict", summary="",
                     params={"drill": "d", "report": action.params["report"]})
    assert "passed" in provider.run(verdict, context(spec)).message

    failing = sqlite_setup(tmp_path / "f", expect="== 99")
    action = drill_run_action(failing, "db")
    outcome = provider.run(action, context(failing))
    assert "backup.db" not in outcome.data[ALSO]  # a failed drill verifies nothing
    verdict = verdict.model_copy(update={"params": {"drill": "d",
                                                    "report": action.params["report"]}})
    with pytest.raises(ActionFailed, match="drill d failed: check .* failed"):
        provider.run(verdict, context(failing))


PATHS = """\
backups: {gw-runtime: {source: {server: gw}, every: 24h, repository: vault}}
drills:
  d:
    backup: gw-runtime
    every: 7d
    into: {directory: world/scratch/gw}
    verify: CHECKS
"""


def paths_setup(tmp_path: Path, checks: list[dict[str, Any]]) -> LoadedSpec:
    import json

    spec = load(tmp_path, PATHS.replace("CHECKS", json.dumps(checks)))
    home = tmp_path / "world" / "h" / "opt" / "gw"
    (home / "repository" / "conf").mkdir(parents=True)
    (home / "repository" / "conf" / "deployment.toml").write_text("port = 1\n")
    (home / "repository" / "conf" / "carbon.xml").write_text("<carbon/>\n")
    fields = SnapshotFields(source=SnapshotSource(kind="server", address="server.gw"),
                            created=NOW)
    backup_paths(open_repository(spec, "vault"), "gw-runtime", "snap1", LocalTransport(),
                 home, ["repository/conf"], fields)
    return spec


def test_a_directory_drill_checks_files_and_commands_then_removes_the_folder(
        tmp_path: Path) -> None:
    code = "import pathlib,sys; sys.exit(0 if pathlib.Path('repository/conf/carbon.xml')" \
           ".read_text() == '<carbon/>\\n' else 3)"
    spec = paths_setup(tmp_path, [{"files": ["repository/conf"]},
                                  {"command": [sys.executable, "-c", code]}])
    run = run_drill(context(spec), drill_run_action(spec, "gw-runtime").params)
    assert run.passed, run.reason()
    assert run.checks[0].detail == "2 file(s) match the snapshot"
    assert run.checks[1].detail == "exit 0"
    assert not (tmp_path / "world" / "scratch" / "gw").exists()


def test_files_that_differ_from_the_snapshot_fail_the_drill(tmp_path: Path) -> None:
    tamper = "import pathlib; pathlib.Path('repository/conf/carbon.xml').write_text('changed')"
    spec = paths_setup(tmp_path, [{"command": [sys.executable, "-c", tamper]},
                                  {"files": ["repository/conf", "repository/missing"]},
                                  {"command": [sys.executable, "-c", "raise SystemExit(4)"]}])
    run = run_drill(context(spec), drill_run_action(spec, "gw-runtime").params)
    assert not run.passed
    assert run.checks[0].passed
    detail = run.checks[1].detail
    assert "repository/missing is not in the snapshot" in detail
    assert "repository/conf/carbon.xml differs from the snapshot" in detail
    assert not run.checks[2].passed and run.checks[2].detail.startswith("exit 4")
    assert not (tmp_path / "world" / "scratch" / "gw").exists()


def test_a_directory_drill_on_a_host_restores_under_its_root_through_its_transport(
        tmp_path: Path) -> None:
    spec = paths_setup(tmp_path, [{"files": ["repository/conf"]}])
    text = (tmp_path / "t.yaml").read_text().replace(
        "into: {directory: world/scratch/gw}", "into: {directory: scratch/gw, host: h}")
    (tmp_path / "t.yaml").write_text(text)
    spec = load_spec(tmp_path)
    used: list[str] = []

    def factory(name: str, host: object, spec_dir: Path) -> LocalTransport:
        used.append(name)
        return LocalTransport(name)

    params = drill_run_action(spec, "gw-runtime").params
    assert params["target"] == {"kind": "directory", "host": "h",
                                "label": f"directory {tmp_path}/world/h/scratch/gw on h",
                                "path": f"{tmp_path}/world/h/scratch/gw"}
    run = run_drill(context(spec), params, HostPool(factory))  # type: ignore[arg-type]
    assert run.passed, run.reason()
    assert used == ["h"]
    assert not (tmp_path / "world" / "h" / "scratch" / "gw").exists()


# ----- PostgreSQL and MariaDB on 127.0.0.1 (their own uniquely named databases) -------------


def server_target(engine: str, name: str) -> DatabaseTarget:
    return DatabaseTarget(engine=engine, host="127.0.0.1",
                          port=5432 if engine == "postgres" else 3306,
                          user="postgres" if engine == "postgres" else "root", dbname=name)


def fill(target: DatabaseTarget) -> None:
    statements = ["CREATE TABLE am_api (id int PRIMARY KEY, name varchar(40))",
                  "INSERT INTO am_api VALUES (1, 'pizza'), (2, 'weather')"]
    if target.engine == "postgres":
        import psycopg

        with psycopg.connect(host=target.host, port=target.port, user=target.user,
                             dbname=target.dbname, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)
        return
    import pymysql

    with pymysql.connect(host=target.host, port=target.port, user=target.user, password="",
                         database=target.dbname, autocommit=True) as conn, conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


@pytest.fixture(params=["postgres", "mysql"])
def server_db(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    engine = request.param
    suffix = uuid.uuid4().hex[:10]
    source, scratch = f"dd_drill_src_{suffix}", f"dd_drill_scratch_{suffix}"
    db = engine_for(engine)
    db.create(server_target(engine, source))
    try:
        fill(server_target(engine, source))
        yield engine, source, scratch
    finally:
        db.drop(server_target(engine, source))
        db.drop(server_target(engine, scratch))


SERVER_DB = """\
databases: {{db: {{engine: {engine}, host: 127.0.0.1, dbname: {source}}}}}
backups: {{db: {{source: {{database: db}}, every: 24h, repository: vault}}}}
drills:
  d:
    backup: db
    every: 7d
    into: {{database: {{engine: {engine}, host: 127.0.0.1, dbname: {scratch}}}}}
    verify:
      - {{sql: "SELECT count(*) FROM am_api", expect: "== 2"}}
      - {{sql: "SELECT name FROM am_api WHERE id = 1", expect: "== pizza"}}
"""


@pytest.mark.integration
def test_postgres_and_mariadb_drills_pass_and_drop_their_scratch_database(
        tmp_path: Path, server_db: tuple[str, str, str]) -> None:
    engine, source, scratch = server_db
    spec = load(tmp_path, SERVER_DB.format(engine=engine, source=source, scratch=scratch))
    snapshot_database(spec, server_target(engine, source))
    run = run_drill(context(spec), drill_run_action(spec, "db").params)
    assert run.passed, run.reason()
    assert [c.detail for c in run.checks] == ["got 2, expected == 2",
                                              "got 'pizza', expected == pizza"]
    assert not engine_for(engine).observe(server_target(engine, scratch)).exists
    assert engine_for(engine).observe(server_target(engine, source)).exists
