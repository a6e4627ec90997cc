"""After losing the primary site: `recover --site dr --write-spec` rebuilds the estate at
dr and rewrites the spec files (comments and layout kept) so the next plan manages the
recovered servers without a change; once the primary is back, `recover --site primary`
plans the failback with the data that changed at dr meanwhile: a final backup at dr of
every series (SQLite and PostgreSQL rows, the server's runtime files written after the
last nightly one), copied to the primary's repository and restored at the primary, and
the DR servers stopped once the primary's pass their health check."""

from __future__ import annotations

import difflib
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.databases.engines import engine_for
from tests.helpers.servers import Estate, Gateway, home_at_level, stop_home
from tests.helpers.world import seed_apis
from tests.integration.test_recover import at, drydock, facts, rows
from tests.integration.test_site_drill_databases import run_sql, target

pytestmark = pytest.mark.integration

ENV = """\
# Two sites on one machine (the test's world folder).
environment: t
vars: {world: world}
state: {backend: local, path: state/t.json}
sites: {primary: {}, dr: {}}
hosts:
  node-a: {site: primary, transport: local, root: "{{ world }}/primary"}  # Colombo
  node-b: {site: dr, transport: local, root: "{{ world }}/dr"}            # Singapore
products:
  wso2am-4.2.0:
    pack: "{{ world }}/packs/wso2am-4.2.0.zip"
    updates: "{{ world }}/updates"
    patches: "{{ world }}/patches"
"""
DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
  # takes over when the primary is lost
  apim_db_dr: {engine: sqlite, path: "{{ world }}/dr/apim.db", site: dr}
  reg_db: {engine: postgres, host: 127.0.0.1, port: 5432, user: postgres, dbname: LIVE,
           site: primary}
  reg_db_dr: {engine: postgres, host: 127.0.0.1, port: 5432, user: postgres,
              dbname: STANDBY, site: dr}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  # the API database, copied to the other site every night
  apim-db: {source: {database: apim_db}, every: 24h, repository: primary-vault,
            copies: [dr-vault]}
  reg-db: {source: {database: reg_db}, every: 24h, repository: primary-vault,
           copies: [dr-vault]}
  gw-1-runtime:
    source: {server: gw-1}
    every: 24h
    repository: primary-vault   # where it is taken
    copies: [dr-vault]
"""
RECOVER = """\
recover:
  # the DR site takes over
  dr:
    hosts: {node-a: node-b}
    databases: {apim_db: apim_db_dr, reg_db: reg_db_dr}
"""
PG: dict[str, str] = {}


@pytest.fixture
def estate(estate: Estate) -> Iterator[Estate]:
    """The estate of tests/integration/conftest.py with this module's spec files and its
    two PostgreSQL databases, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    PG.update(live=f"dd_fb_live_{suffix}", standby=f"dd_fb_dr_{suffix}")
    (estate.spec / "env.yaml").write_text(ENV)
    (estate.spec / "data.yaml").write_text(
        DATA.replace("LIVE", PG["live"]).replace("STANDBY", PG["standby"]))
    (estate.spec / "recover.yaml").write_text(RECOVER)
    live = target("postgres", PG["live"])
    engine_for("postgres").create(live)
    run_sql(live, "CREATE TABLE reg (id INTEGER PRIMARY KEY, path VARCHAR(80))",
            "INSERT INTO reg VALUES (1, '/_system/governance/pizza')")
    try:
        yield estate
    finally:
        estate.stop_all()
        for name in PG.values():
            engine_for("postgres").drop(target("postgres", name))


def registry(name: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=name) as conn:
        return conn.execute("SELECT id, path FROM reg ORDER BY id").fetchall()


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines between two texts."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return ([d[2:] for d in diff if d.startswith("- ")],
            [d[2:] for d in diff if d.startswith("+ ")])


def add_api(path: Path, name: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO am_api (name) VALUES (?)", (name,))
        con.commit()
    finally:
        con.close()


@pytest.mark.slow(11)
def test_write_spec_then_plan_manages_the_recovered_estate_and_failback_brings_it_home(
        estate: Estate) -> None:
    estate.declare(Gateway("gw-1", level=4, patches=(1, 3)))
    servers_before = "# the gateways\n" + (estate.spec / "servers.yaml").read_text()
    (estate.spec / "servers.yaml").write_text(servers_before)
    home_at_level(estate, "gw-1", 2)
    seed_apis(estate.world / "primary" / "apim.db", ("pizza", "weather"))
    drydock(estate, "apply", ".", "--auto-approve", env=at(0), check=0)
    drydock(estate, "apply", ".", "--auto-approve", env=at(24), check=0)
    ran = facts(estate.home("gw-1"))
    originals = {f.name: f.read_text() for f in estate.spec.glob("*.yaml")}

    estate.stop_all()
    shutil.rmtree(estate.world / "primary")
    engine_for("postgres").drop(target("postgres", PG["live"]))
    proc = drydock(estate, "recover", "--site", "dr", "--auto-approve", "--write-spec",
                   env=at(25), check=0)
    assert "Spec rewritten" in proc.stdout and "servers.gw-1 runs on node-b" in proc.stdout

    now = {f.name: f.read_text() for f in estate.spec.glob("*.yaml")}
    assert now["env.yaml"] == originals["env.yaml"]
    assert changed_lines(originals["servers.yaml"], now["servers.yaml"]) == (
        ["    host: node-a"], ["    host: node-b"])
    removed, added = changed_lines(originals["data.yaml"], now["data.yaml"])
    assert added == [
        '  apim-db: {source: {database: apim_db_dr}, every: 24h, repository: dr-vault,',
        "            copies: [primary-vault]}",
        '  reg-db: {source: {database: reg_db_dr}, every: 24h, repository: dr-vault,',
        "           copies: [primary-vault]}",
        "    repository: dr-vault   # where it is taken",
        "    copies: [primary-vault]"], (removed, added)
    assert "# the API database, copied to the other site every night" in now["data.yaml"]
    assert now["recover.yaml"].startswith(RECOVER)  # recover.dr and its comment kept
    assert "  primary:\n    hosts: {node-b: node-a}\n    databases: {apim_db_dr: apim_db, " \
           "reg_db_dr: reg_db}\n    repositories: [primary-vault]\n    failback: true\n" \
           in now["recover.yaml"]

    plan = json.loads(drydock(estate, "plan", ".", "--format", "json", env=at(25.5),
                              check=0).stdout)
    assert [c for c in plan["changes"] if c["address"] == "server.gw-1"] == []
    assert [a["id"] for a in plan["actions"] if a["address"] == "server.gw-1"] == []

    # Life goes on at dr: a new API, then the nightly run backs it up at dr and copies it
    # to the primary's repository once the primary site is back (empty, rebuilt hosts).
    add_api(estate.world / "dr" / "apim.db", "while-at-dr")
    (estate.world / "primary").mkdir()
    drydock(estate, "apply", ".", "--auto-approve", env=at(48), check=0)
    # ... and after that last nightly backup, more writes at dr: rows in both databases
    # and a file the server deployed; only a final backup brings them home.
    add_api(estate.world / "dr" / "apim.db", "after-the-nightly")
    run_sql(target("postgres", PG["standby"]),
            "INSERT INTO reg VALUES (2, '/_system/governance/after-the-nightly')")
    deployed = Path("repository/deployment/server/synapse-configs/default/api/late.xml")
    (estate.world / "dr" / "opt" / "gw-1" / deployed).parent.mkdir(parents=True, exist_ok=True)
    (estate.world / "dr" / "opt" / "gw-1" / deployed).write_text("<api name='late'/>\n")
    at_dr = rows(estate.world / "dr" / "apim.db")
    assert [name for _id, name in at_dr] == ["pizza", "weather", "while-at-dr",
                                            "after-the-nightly"]
    reg_at_dr = registry(PG["standby"])
    assert len(reg_at_dr) == 2

    # The failback is planned first (nothing changes without approval) ...
    shown = drydock(estate, "recover", "--site", "primary", env=at(49), check=1)
    assert "needs confirmation" in shown.stdout + shown.stderr
    assert "restore database apim_db_dr into apim_db" in shown.stdout
    assert "primary-vault" in shown.stdout and not (estate.world / "primary" / "opt").exists()
    assert "take a final snapshot" in shown.stdout and "stop gw-1 on node-b" in shown.stdout
    graph = json.loads(drydock(estate, "recover", "--site", "primary", "--format", "json",
                               env=at(49), check=1).stdout)["plan"]["actions"]
    by_id = {a["id"]: a for a in graph}
    finals = {a["params"]["series"]: a for a in graph if a["id"].endswith("/final")}
    assert {s: a["params"]["repository"] for s, a in finals.items()} == {
        "apim-db": "dr-vault", "reg-db": "dr-vault", "gw-1-runtime": "dr-vault"}
    for restore in (a for a in graph if a["type"].startswith("restore.")):
        series = restore["params"]["series"]
        assert restore["params"]["snapshot_id"] == finals[series]["params"]["snapshot_id"]
        copy = by_id[f"backup.{series}/final-copy-to-primary-vault"]
        assert copy["id"] in restore["depends_on"] and copy["params"]["to"] == "primary-vault"
    stop = by_id["server.gw-1/stop-on-node-b"]
    health = next(a for a in graph if a["type"] == "server.health")
    assert stop["depends_on"] == [health["id"]] and health["params"]["host"] == "node-a"
    assert stop["params"]["home"] == str(estate.world / "dr" / "opt" / "gw-1")
    # ... and applied after review. Both sites share this machine's ports, so the DR
    # server is stopped by hand first (on two machines it keeps serving until the
    # primary's passes its check); the planned stop then finds it stopped.
    for home in sorted(estate.world.glob("dr/opt/*")):
        stop_home(home)
    report = json.loads(drydock(estate, "recover", "--site", "primary", "--auto-approve",
                                "--format", "json", "--write-spec", env=at(49),
                                check=0).stdout)
    assert report["ok"] is True
    assert {p["target"]: (p["repository"], p["age_seconds"]) for p in report["rpo"]} == {
        "database.apim_db": ("primary-vault", 0), "database.reg_db": ("primary-vault", 0),
        "server.gw-1": ("primary-vault", 0)}
    assert rows(estate.world / "primary" / "apim.db") == at_dr
    assert registry(PG["live"]) == reg_at_dr
    home = estate.world / "primary" / "opt" / "gw-1"
    assert facts(home) == ran
    assert (home / deployed).read_text() == "<api name='late'/>\n"
    back = {f.name: f.read_text() for f in estate.spec.glob("*.yaml")}
    assert back["servers.yaml"] == originals["servers.yaml"]
    assert back["data.yaml"] == originals["data.yaml"]
    assert "failback" not in back["recover.yaml"].split("  primary:")[0]  # recover.dr
    plan = json.loads(drydock(estate, "plan", ".", "--format", "json", env=at(49.5),
                              check=0).stdout)
    assert [c for c in plan["changes"] if c["address"] == "server.gw-1"] == []
