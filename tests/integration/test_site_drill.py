"""A site drill rehearses `recover --site dr` end to end on the DR host: every server
rebuilt into a scratch root and health-checked, every database restored into a scratch
twin and checked, one RTO measured, everything torn down; a failing rehearsal (an
artifact the recovery needs is missing) fails the apply, is recorded and heads every
plan and drift report until a rehearsal passes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers.servers import Estate, Gateway, home_at_level, server_status
from tests.helpers.world import seed_apis
from tests.integration.test_recover import BASE, at, drydock, rows

pytestmark = pytest.mark.integration

DRILL = """\
drills:
  # rehearse the loss of the primary site every month
  site-dr:
    site: dr
    every: 30d
    rto: 1h
    into: {root: .rehearsal}
    verify: [{sql: "SELECT count(*) FROM am_api", expect: ">= 3"}]
"""


@pytest.fixture
def estate(estate: Estate) -> Estate:
    """The estate of tests/integration/conftest.py with two sites and their hosts."""
    (estate.spec / "env.yaml").write_text(BASE)
    return estate


def start(estate: Estate) -> None:
    """A day of the estate: the change applied, then the nightly backups (taken after
    it) copied to dr; then the site drill is declared."""
    home_at_level(estate, "gw-1", 1)
    seed_apis(estate.world / "primary" / "apim.db", ("pizza", "weather", "pay"))
    drydock(estate, "apply", ".", "--auto-approve", env=at(0), check=0)
    drydock(estate, "apply", ".", "--auto-approve", env=at(24), check=0)
    (estate.spec / "drills.yaml").write_text(DRILL)


def tables(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master")]
    finally:
        con.close()


def runs(estate: Estate) -> list[dict]:
    doc = json.loads((estate.spec / "state" / "t.json").read_text())
    return doc["resources"]["drill.site-dr"]["data"]["runs"]


def leftovers(estate: Estate) -> list[str]:
    """What a rehearsal could leave at the DR site: anything but its backup repository
    and the (empty) standby database the spec declares there."""
    dr = estate.world / "dr"
    return sorted(p.relative_to(dr).as_posix() for p in dr.iterdir()
                  if p.name not in ("backups", "apim.db"))


@pytest.mark.slow(13)
def test_a_site_drill_rebuilds_checks_measures_and_leaves_nothing_behind(
        estate: Estate) -> None:
    gateway = Gateway("gw-1", level=3, patches=(1,))
    estate.declare(gateway)
    start(estate)
    live = rows(estate.world / "primary" / "apim.db")
    # Both sites share this machine: the primary's server holds the port the rehearsal's
    # copy listens on, so it is stopped for the rehearsal (on two machines it keeps running).
    estate.stop_all()

    plan = json.loads(drydock(estate, "plan", ".", "--format", "json", env=at(25),
                              check=0).stdout)
    rehearse = next(a for a in plan["actions"] if a["type"] == "drill.site")
    assert "rehearse recover --site dr" in rehearse["summary"]
    types = [s["type"] for s in rehearse["params"]["steps"]]
    assert {"server.install", "server.update", "restore.paths",
            "restore.database", "server.start", "server.health"} <= set(types)
    root = estate.world / "dr" / ".rehearsal" / "node-b"
    assert all(s["params"]["home"].startswith(str(root)) for s in rehearse["params"]["steps"]
               if s["type"].startswith("server."))

    proc = drydock(estate, "apply", ".", "--auto-approve", env=at(25), check=0)
    assert "rehearsed the recovery of site dr in" in proc.stdout + proc.stderr
    run = runs(estate)[-1]
    assert run["passed"] is True and run["within_rto"] is True and run["torn_down"] is True
    assert 0 < run["seconds"] <= run["rto_seconds"] == 3600
    assert {c["check"]: c["passed"] for c in run["checks"]} == {
        "server.gw-1 health check": True,
        "database.apim_db_dr: sql 'SELECT count(*) FROM am_api' >= 3": True}
    assert "gw-1-runtime/" in run["snapshot"] and run["repository"] == "dr-vault"
    assert leftovers(estate) == [] and server_status(gateway) is None
    assert rows(estate.world / "primary" / "apim.db") == live
    assert tables(estate.world / "dr" / "apim.db") == []  # the standby is not touched
    assert "drill" not in drydock(estate, "plan", ".", env=at(26), check=0).stdout.split(
        "\n\n")[0].lower()


@pytest.mark.slow(16)
def test_a_missing_artifact_fails_the_rehearsal_loudly_until_one_passes(
        estate: Estate) -> None:
    estate.declare(Gateway("gw-1", level=3, service=False))
    start(estate)
    package = next((estate.world / "updates").glob("*-0003.zip"))
    # only its replicated copy at the rehearsed site goes (the spec's folder keeps it): a
    # rebuild installs from that copy alone, so the rehearsal must fail as a real
    # recovery without the primary's folders would
    stored = next(d for d in (estate.world / "dr/backups/.drydock-artifacts").iterdir()
                  if json.loads((d / "manifest.json").read_text())["name"] == package.name)
    aside = estate.spec.parent / "artifact-aside"
    shutil.move(stored, aside)

    failed = drydock(estate, "apply", ".", "--auto-approve", env=at(25), check=1)
    assert "drill site-dr failed" in failed.stderr and package.name in failed.stderr
    assert runs(estate)[-1]["passed"] is False and runs(estate)[-1]["torn_down"] is True
    assert leftovers(estate) == []
    plan = drydock(estate, "plan", ".", env=at(26), check=0)
    head = plan.stdout.splitlines()[1]  # the first line after the plan's title
    assert "drill.site-dr FAILED" in head and "rehearsing recover --site dr" in head
    drift = json.loads(drydock(estate, "drift", ".", "--format", "json", env=at(26),
                               check=2).stdout)
    assert [d["status"] for d in drift["drills"] if d["drill"] == "site-dr"] == ["failed"]

    assert package.is_file()
    shutil.move(aside, stored)
    drydock(estate, "apply", ".", "--auto-approve", env=at(27), check=0)
    assert runs(estate)[-1]["passed"] is True and len(runs(estate)) == 2
    assert "FAILED" not in drydock(estate, "plan", ".", env=at(28), check=0).stdout


def test_a_site_drill_keeps_the_snapshot_it_rehearses_from_its_own_plans_prune(
        estate: Estate) -> None:
    # keep one snapshot: the nightly backup this plan takes would prune the one the
    # rehearsal reads (the newest at dr when the plan is made)
    (estate.spec / "env.yaml").write_text(BASE.replace("every: 24h,",
                                                       "every: 24h, keep: {last: 1},"))
    estate.declare(Gateway("gw-1", level=3, service=False))
    start(estate)

    plan = json.loads(drydock(estate, "plan", ".", "--format", "json", env=at(48),
                              check=0).stdout)
    rehearse = next(a for a in plan["actions"] if a["type"] == "drill.site")
    used = {s.split("/")[0]: s.split("/")[1] for s in rehearse["params"]["snapshots"]}
    assert set(used) == {"apim-db", "gw-1-runtime"}
    prunes = [a for a in plan["actions"] if a["type"] == "backup.prune"]
    # at the primary, where the drill reads nothing, retention prunes as it always does
    assert {(a["params"]["series"], a["params"]["repository"]) for a in prunes} == {
        ("apim-db", "primary-vault"), ("gw-1-runtime", "primary-vault")}
    assert all([d["id"] for d in a["params"]["deletes"]] == [used[a["params"]["series"]]]
               for a in prunes)

    drydock(estate, "apply", ".", "--auto-approve", env=at(48), check=0)
    assert runs(estate)[-1]["passed"] is True
    assert runs(estate)[-1]["snapshot"].endswith(used["gw-1-runtime"])
    # the drill has run: the next plan prunes what only it held
    later = json.loads(drydock(estate, "plan", ".", "--format", "json", env=at(49),
                               check=0).stdout)
    deleted = {d["id"] for a in later["actions"] if a["type"] == "backup.prune"
               for d in a["params"]["deletes"]}
    assert used["gw-1-runtime"] in deleted  # from dr-vault, where it was held
