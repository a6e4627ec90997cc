"""Catalog operations are ordinary runs: `backups list --rebuild`, `verify`, `pin` and
`unpin` each apply a plan through the walker and the journal and write the state once,
from the state read under the run's lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers.world import Env, make_env, seed_apis

DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
  audit_db: {engine: sqlite, path: "{{ world }}/primary/audit.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 3},
            repository: primary-vault, copies: [dr-vault]}
  audit-db: {source: {database: audit_db}, every: 24h, keep: {last: 3},
             repository: primary-vault, copies: [dr-vault]}
"""
NOW = {"DRYDOCK_NOW": datetime(2026, 1, 1, 2, 0, tzinfo=UTC).isoformat()}


def setup(tmp_path: Path) -> Env:
    env = make_env(tmp_path, {}, extra_yaml=DATA)
    seed_apis(env.world / "primary" / "apim.db")
    seed_apis(env.world / "primary" / "audit.db")
    env.run("apply", ".", "--auto-approve", env=NOW, check=0)
    return env


def state(env: Env) -> dict:
    return json.loads((env.spec / "state" / "t.json").read_text())


def snapshot_of(env: Env, series: str) -> str:
    rows = json.loads(env.run("backups", "list", "--env", ".", "--format", "json",
                              check=0).stdout)["snapshots"]
    return next(r["id"] for r in rows if r["series"] == series)


def test_rebuilding_two_series_writes_one_state_version(tmp_path: Path) -> None:
    env = setup(tmp_path)
    before = state(env)["serial"]
    env.run("backups", "list", "--env", ".", "--rebuild", check=0)
    after = state(env)
    assert after["serial"] == before + 1
    assert set(after["resources"]["backup.apim-db"]["data"]["catalog"]) == {
        "primary-vault", "dr-vault"}
    assert set(after["resources"]["backup.audit-db"]["data"]["catalog"]) == {
        "primary-vault", "dr-vault"}
    assert after["applied"]["summary"] == "2 ok, 0 failed, 0 skipped"


def test_verify_records_the_snapshot_verified_in_one_run(tmp_path: Path) -> None:
    env = setup(tmp_path)
    snap = snapshot_of(env, "apim-db")
    before = state(env)["serial"]
    proc = env.run("backups", "verify", snap, "--env", ".", check=0)
    assert proc.stdout.splitlines() == [
        f"snapshot {snap} in dr-vault: all parts verified",
        f"snapshot {snap} in primary-vault: all parts verified"]
    after = state(env)
    assert after["serial"] == before + 1
    assert snap in after["resources"]["backup.apim-db"]["data"]["verified"]


def test_pin_and_unpin_are_runs_that_keep_other_pins(tmp_path: Path) -> None:
    env = setup(tmp_path)
    apim, audit = snapshot_of(env, "apim-db"), snapshot_of(env, "audit-db")
    before = state(env)["serial"]
    env.run("backups", "pin", apim, "--env", ".", check=0)
    env.run("backups", "pin", audit, "--env", ".", check=0)
    doc = state(env)
    assert doc["serial"] == before + 2
    assert doc["resources"]["backup.apim-db"]["data"]["pins"] == [apim]
    assert doc["resources"]["backup.audit-db"]["data"]["pins"] == [audit]
    env.run("backups", "unpin", apim, "--env", ".", check=0)
    doc = state(env)
    assert doc["resources"]["backup.apim-db"]["data"]["pins"] == []
    assert doc["resources"]["backup.audit-db"]["data"]["pins"] == [audit]
