"""Losing a whole site: the primary hosts, database, repository and even the state are
deleted; `recover --site dr` rebuilds the servers at the DR host from the DR repository
alone (same update level, patches and configuration bytes) and the database rows, and
reports the RPO and the measured RTO."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.servers import (
    Estate,
    Gateway,
    home_at_level,
    server_status,
)
from tests.helpers.world import seed_apis

pytestmark = pytest.mark.integration

BASE = """\
environment: t
vars: {world: world}
state: {backend: local, path: state/t.json}
sites: {primary: {}, dr: {}}
hosts:
  node-a: {site: primary, transport: local, root: "{{ world }}/primary"}
  node-b: {site: dr, transport: local, root: "{{ world }}/dr"}
products:
  wso2am-4.2.0:
    pack: "{{ world }}/packs/wso2am-4.2.0.zip"
    updates: "{{ world }}/updates"
    patches: "{{ world }}/patches"
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
  apim_db_dr: {engine: sqlite, path: "{{ world }}/dr/apim.db", site: dr}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, repository: primary-vault,
            copies: [dr-vault]}
  gw-1-runtime: {source: {server: gw-1}, every: 24h, repository: primary-vault,
                 copies: [dr-vault]}
recover:
  dr:
    hosts: {node-a: node-b}
    databases: {apim_db: apim_db_dr}
"""
START = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def at(hours: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(hours=hours)).isoformat()}


@pytest.fixture
def estate(estate: Estate) -> Estate:
    """The estate of tests/integration/conftest.py with two sites and their hosts."""
    (estate.spec / "env.yaml").write_text(BASE)
    return estate


def drydock(estate: Estate, *args: str, env: dict[str, str] | None = None,
            check: int) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process, with the clock set by `env`."""
    return estate.run(*args, env=env, check=check)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, name FROM am_api ORDER BY id").fetchall()
    finally:
        con.close()


def facts(home: Path) -> dict:
    level = int(json.loads((home / "updates" / "config.json").read_text())["update-level"])
    patches = sorted(p.name for p in (home / "repository/components/patches").iterdir()
                     if p.name.startswith("patch") and p.name != "patch0000")
    conf = {p.relative_to(home).as_posix(): sha(p)
            for p in sorted((home / "repository" / "conf").rglob("*")) if p.is_file()}
    return {"level": level, "patches": patches, "conf": conf}


def test_site_loss_rebuilds_servers_and_data_at_the_dr_site(estate: Estate) -> None:
    gateway = Gateway("gw-1", level=4, patches=(1, 3))
    estate.declare(gateway)
    home_at_level(estate, "gw-1", 2)
    db = seed_apis(estate.world / "primary" / "apim.db", ("pizza", "weather", "pay"))
    drydock(estate, "apply", ".", "--auto-approve", env=at(0), check=0)
    drydock(estate, "apply", ".", "--auto-approve", env=at(24), check=0)  # nightly backups
    before = facts(estate.home("gw-1"))
    assert before["level"] == 4 and before["patches"] == ["patch0001", "patch0003"]
    assert "repository/conf/deployment.toml" in before["conf"]
    expected_rows = rows(db)

    estate.stop_all()
    shutil.rmtree(estate.world / "primary")  # hosts, database and primary repository
    shutil.rmtree(estate.spec / "state")  # the state is lost with the site

    plan = drydock(estate, "recover", "--site", "dr", env=at(25), check=1)
    assert "needs confirmation" in plan.stderr and "restore.database" in plan.stdout
    proc = drydock(estate, "recover", "--site", "dr", "--auto-approve", "--format", "json",
                      env=at(25), check=0)
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["result"]["failed"] == 0
    rpo = {p["target"]: p for p in report["rpo"]}
    assert rpo["database.apim_db_dr"]["age_seconds"] == 3600
    assert rpo["server.gw-1"]["age_seconds"] == 3600
    assert rpo["server.gw-1"]["repository"] == "dr-vault"
    assert isinstance(report["rto_seconds"], float) and report["rto_seconds"] >= 0

    rebuilt = estate.world / "dr" / "opt" / "gw-1"
    assert facts(rebuilt) == before
    assert rows(estate.world / "dr" / "apim.db") == expected_rows
    status = server_status(gateway)
    assert status is not None and status["update_level"] == 4


def test_recover_names_what_is_missing_and_refuses_a_site_without_mapping(
        estate: Estate) -> None:
    estate.declare(Gateway("gw-1", level=2, service=False))
    home_at_level(estate, "gw-1", 2)
    proc = drydock(estate, "recover", "--site", "primary", "--auto-approve", check=1)
    assert "no recover mapping for site 'primary'" in proc.stderr
    proc = drydock(estate, "recover", "--site", "dr", env=at(0), check=1)
    assert "database.apim_db: no snapshot of apim-db in dr-vault" in proc.stdout
    assert "server.gw-1: no snapshot of its paths" in proc.stdout
