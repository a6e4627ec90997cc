"""Restore drills through the real CLI over simulated days (DRYDOCK_NOW): a passing drill
verifies its snapshot, a failing one is torn down, fails the apply, is recorded and heads
every later plan (and the drift findings) until a drill passes; a zero RTO always fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.drills_status import drill_findings
from engine.spec.loader import load_spec
from state.document import StateDocument, from_bytes
from tests.helpers.world import Env, make_env, seed_apis

DATA = """\
databases:
  apim_db: {{engine: sqlite, path: "{{{{ world }}}}/primary/apim.db", site: primary}}
repositories:
  primary-vault: {{site: primary, type: local, path: "{{{{ world }}}}/primary/backups"}}
  dr-vault: {{site: dr, type: local, path: "{{{{ world }}}}/dr/backups"}}
backups:
  apim-db:
    source: {{database: apim_db}}
    every: 24h
    keep: {{last: 5}}
    repository: primary-vault
    copies: [dr-vault]
drills:
  apim-db-restore:
    backup: apim-db
    from: dr-vault
    every: 7d
    into: {{database: {{engine: sqlite, path: "{{{{ world }}}}/scratch/apim.db"}}}}
    verify: [{{sql: "SELECT count(*) FROM am_api", expect: "{expect}"}}]
    rto: {rto}
"""
START = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)


def at(days: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(days=days)).isoformat()}


def setup(tmp_path: Path, *, expect: str = ">= 1", rto: str = "15m") -> Env:
    env = make_env(tmp_path, {}, extra_yaml=DATA.format(expect=expect, rto=rto))
    seed_apis(env.world / "primary" / "apim.db")
    return env


def state(env: Env) -> StateDocument:
    return from_bytes((env.spec / "state" / "t.json").read_bytes(), source="test")


def runs(env: Env) -> list[dict]:
    return state(env).resources["drill.apim-db-restore"].data["runs"]


def test_a_passing_drill_verifies_its_snapshot_and_is_not_due_again_for_a_while(
        tmp_path: Path) -> None:
    env = setup(tmp_path)
    plan = env.run("plan", ".", env=at(0), check=0)
    assert "drill.run" in plan.stdout and "check: sql 'SELECT count(*) FROM am_api' >= 1" \
        in plan.stdout
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    [run] = runs(env)
    assert run["passed"] and run["within_rto"] and run["repository"] == "dr-vault"
    assert run["checks"][0]["detail"] == "got 2, expected >= 1"
    listing = json.loads(env.run("backups", "list", "--env", ".", "--format", "json",
                                 env=at(0), check=0).stdout)["snapshots"]
    assert [s["verified"] for s in listing] == [True] and listing[0]["id"] == run["snapshot"]
    assert not (env.world / "scratch" / "apim.db").exists()
    assert "drill.run" not in env.run("plan", ".", env=at(3), check=0).stdout
    due = env.run("plan", ".", env=at(7), check=0).stdout
    assert "drill.run" in due and "last run 7d ago, every 7d" in due


def test_a_failing_drill_is_torn_down_recorded_and_heads_every_plan_until_one_passes(
        tmp_path: Path) -> None:
    env = setup(tmp_path, expect="== 5")
    proc = env.run("apply", ".", "--auto-approve", env=at(0), check=1)
    assert "drill apim-db-restore failed" in proc.stderr and "got 2, expected == 5" in proc.stderr
    assert not (env.world / "scratch" / "apim.db").exists()
    [run] = runs(env)
    assert not run["passed"] and run["torn_down"]
    snapshots = state(env).resources["backup.apim-db"].data
    assert "verified" not in snapshots or not snapshots["verified"]

    plan = env.run("plan", ".", env=at(0.5), check=0).stdout.splitlines()
    assert plan[1].startswith("warning: drill.apim-db-restore FAILED")
    assert "got 2, expected == 5" in plan[1]
    loaded = load_spec(env.spec)
    [finding] = drill_findings(state(env), loaded, START + timedelta(days=0.5))
    assert finding.status == "failed" and finding.last_run is not None
    data = json.loads(env.run("plan", ".", "--format", "json", env=at(0.5), check=0).stdout)
    assert data["warnings"][0] == finding.message
    drift = env.run("drift", ".", "--format", "json", env=at(0.5), check=2)
    [status] = json.loads(drift.stdout)["drills"]
    assert status["drill"] == "apim-db-restore" and status["status"] == "failed"
    assert status["last_ok"] is False and "got 2, expected == 5" in status["message"]
    text = env.run("drift", ".", env=at(0.5), check=2).stdout
    assert "drill apim-db-restore: failed" in text

    (env.spec / "extra.yaml").write_text(DATA.format(expect=">= 1", rto="15m"))
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    assert [r["passed"] for r in runs(env)] == [False, True]
    plan = env.run("plan", ".", env=at(1.5), check=0).stdout
    assert "FAILED" not in plan
    assert drill_findings(state(env), load_spec(env.spec), START + timedelta(days=1.5)) == []


def test_a_zero_rto_always_fails_the_drill(tmp_path: Path) -> None:
    env = setup(tmp_path, rto="0s")
    proc = env.run("apply", ".", "--auto-approve", env=at(0), check=1)
    assert "over the RTO of 0s" in proc.stderr
    [run] = runs(env)
    assert not run["within_rto"] and not run["passed"]
    assert run["checks"][0]["passed"]
