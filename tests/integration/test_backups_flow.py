"""Backups through the real CLI over days of simulated time (DRYDOCK_NOW): freshness,
copies to the other site, retention with reasons, and the safety rules."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.world import Env, make_env, seed_apis

DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db:
    source: {database: apim_db}
    every: 24h
    keep: {last: 2, daily: 3}
    timezone: Asia/Colombo
    repository: primary-vault
    copies: [dr-vault]
"""
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def at(days: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(days=days)).isoformat()}


def setup(tmp_path: Path) -> Env:
    env = make_env(tmp_path, {}, extra_yaml=DATA)
    seed_apis(env.world / "primary" / "apim.db")
    return env


def snapshots(env: Env, *extra: str) -> list[dict]:
    proc = env.run("backups", "list", "--env", ".", "--format", "json", *extra, check=0)
    return json.loads(proc.stdout)["snapshots"]


def test_backup_is_taken_only_when_due_and_copied(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    snaps = snapshots(env)
    assert len(snaps) == 1 and snaps[0]["copies"] == ["dr-vault"]
    plan = env.run("plan", ".", "--detailed-exitcode", env=at(0.5), check=0)
    assert "backup.create" not in plan.stdout
    plan = env.run("plan", ".", "--detailed-exitcode", env=at(1), check=2)
    assert "backup.create" in plan.stdout and "newest is 1d old" in plan.stdout


def test_retention_prunes_with_reasons_and_keeps_last(tmp_path: Path) -> None:
    env = setup(tmp_path)
    for day in range(6):
        env.run("apply", ".", "--auto-approve", env=at(day), check=0)
    snaps = snapshots(env)
    created = [s["created"] for s in snaps]
    assert created == sorted(created)
    # keep last 2 + daily 3: the three newest days remain, in both repositories
    assert len(snaps) == 3 and all(s["copies"] == ["dr-vault"] for s in snaps)
    primary = list((env.world / "primary" / "backups" / "apim-db").iterdir())
    assert len(primary) == 3


def test_prune_plan_lists_each_deletion_with_its_rule(tmp_path: Path) -> None:
    env = setup(tmp_path)
    for day in range(4):
        env.run("apply", ".", "--auto-approve", env=at(day), check=0)
    plan = env.run("plan", ".", env=at(4), check=0)
    assert "backup.prune" in plan.stdout
    proc = env.run("plan", ".", "--format", "json", env=at(4), check=0)
    prunes = [a for a in json.loads(proc.stdout)["actions"] if a["type"] == "backup.prune"]
    deletes = [d for a in prunes for d in a["params"]["deletes"]]
    assert deletes and all(d["reason"] for d in deletes)


def test_failed_copy_is_retried_and_uncopied_snapshots_are_never_pruned(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    dr = env.world / "dr" / "backups"
    shutil.rmtree(dr)
    dr.write_text("not a directory")  # the dr site is unreachable: copies fail for real
    for day in (1, 2, 3, 4):
        env.run("apply", ".", "--auto-approve", env=at(day), check=1)
    primary = sorted(p.name for p in (env.world / "primary" / "backups" / "apim-db").iterdir())
    assert len(primary) == 5, primary  # nothing uncopied was deleted
    dr.unlink()
    env.run("apply", ".", "--auto-approve", env=at(4.1), check=0)
    copied = sorted(p.name for p in (dr / "apim-db").iterdir())
    assert copied  # copies were retried
    env.run("apply", ".", "--auto-approve", env=at(4.2), check=0)
    snaps = snapshots(env, "--rebuild")
    assert all(s["copies"] == ["dr-vault"] for s in snaps)


def test_state_lost_list_rebuild_finds_everything(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    shutil.rmtree(env.spec / "state")
    assert snapshots(env) == []
    rebuilt = snapshots(env, "--rebuild")
    assert len(rebuilt) == 2 and all(s["copies"] == ["dr-vault"] for s in rebuilt)


def test_verify_detects_one_flipped_byte(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    snap = snapshots(env)[0]["id"]
    env.run("backups", "verify", snap, "--env", ".", check=0)
    part = next((env.world / "dr" / "backups" / "apim-db" / snap).glob("*.zst"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    proc = env.run("backups", "verify", snap, "--env", ".", check=1)
    assert "dr-vault" in proc.stderr and "damaged" in proc.stderr
    report = json.loads(env.run("backups", "verify", snap, "--env", ".", "--format", "json",
                                check=1).stdout)
    assert {r["repository"]: r["ok"] for r in report["results"]} == {
        "dr-vault": False, "primary-vault": True}


def test_drift_reports_overdue_backups_with_their_age(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    env.run("drift", ".", env=at(0.5), check=0)
    proc = env.run("drift", ".", "--format", "json", env=at(2), check=2)
    report = json.loads(proc.stdout)
    overdue = {(b["policy"], b["repository"]): b for b in report["overdue_backups"]}
    assert set(overdue) == {("apim-db", "primary-vault"), ("apim-db", "dr-vault")}
    assert overdue[("apim-db", "primary-vault")]["age_seconds"] == 2 * 86400
    text = env.run("drift", ".", env=at(2), check=2).stdout
    assert "backup apim-db in primary-vault is overdue (newest is 2.0d old" in text


def test_plan_text_lists_each_deleted_snapshot_with_its_rule(tmp_path: Path) -> None:
    env = setup(tmp_path)
    for day in range(4):
        env.run("apply", ".", "--auto-approve", env=at(day), check=0)
    listed = {s["id"] for s in snapshots(env)}
    text = env.run("plan", ".", env=at(4), check=0).stdout
    deleted = [line.strip() for line in text.splitlines() if line.strip().startswith("- 2026")]
    assert deleted, text
    for line in deleted:
        sid = line[2:].split(" ", 1)[0]
        assert sid in listed
        assert "beyond last 2" in line
