"""`backups forget SERIES` deleting for real: snapshots taken by drydock's own backups,
the planned prune's rules and reasons, the lock and the catalog, and both guarantees."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers.world import Env
from tests.integration.test_backups_flow import DATA, at, setup, snapshots

KEEP_ALL = DATA.replace("keep: {last: 2, daily: 3}", "keep: {last: 10}")


def _env(tmp_path: Path, data: str = KEEP_ALL, days: int = 4) -> Env:
    env = setup(tmp_path)
    (env.spec / "extra.yaml").write_text(data)
    for day in range(days):
        env.run("apply", ".", "--auto-approve", env=at(day), check=0)
    return env


def _folders(env: Env, site: str) -> list[str]:
    return sorted(p.name for p in (env.world / site / "backups" / "apim-db").iterdir())


def test_forget_with_keep_options_deletes_in_every_repository(tmp_path: Path) -> None:
    env = _env(tmp_path)
    before = [s["id"] for s in snapshots(env)]
    assert len(before) == 4
    proc = env.run("backups", "forget", "apim-db", "--env", ".", "--keep-last", "2",
                   "--prune", "--auto-approve", "--format", "json", env=at(3.5), check=0)
    report = json.loads(proc.stdout)
    assert report["dry_run"] is False and report["ok"] is True
    assert sorted((d["repository"], d["id"]) for d in report["deleted"]) == sorted(
        (repo, sid) for repo in ("dr-vault", "primary-vault") for sid in before[:2])
    removed = {r["repository"]: r["remove"] for r in report["repositories"]}
    assert all("last 2" in item["reason"] for item in removed["primary-vault"])
    assert _folders(env, "primary") == before[2:] and _folders(env, "dr") == before[2:]
    assert [s["id"] for s in snapshots(env)] == before[2:]  # the state's catalog too


def test_without_keep_options_the_policy_decides_as_the_planned_prune(tmp_path: Path) -> None:
    env = _env(tmp_path)
    (env.spec / "extra.yaml").write_text(DATA.replace("keep: {last: 2, daily: 3}",
                                                      "keep: {last: 1}"))
    plan = json.loads(env.run("plan", ".", "--format", "json", env=at(3.5), check=0).stdout)
    planned = {a["params"]["repository"]: [(d["id"], d["reason"]) for d in
                                           a["params"]["deletes"]]
               for a in plan["actions"] if a["type"] == "backup.prune"}
    dry = json.loads(env.run("backups", "forget", "apim-db", "--env", ".", "--dry-run",
                             "--format", "json", env=at(3.5), check=0).stdout)
    assert [(r["id"], r["reason"]) for r in dry["remove"]] == planned["primary-vault"]
    text = env.run("backups", "forget", "apim-db", "--env", ".", "--prune", "--auto-approve",
                   env=at(3.5), check=0).stdout
    assert "repository primary-vault:" in text and "forgot 6 snapshot(s)" in text
    assert len(_folders(env, "primary")) == 1 and len(_folders(env, "dr")) == 1


def test_a_forget_that_breaks_the_copy_guarantee_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path)
    oldest = snapshots(env)[0]["id"]
    shutil.rmtree(env.world / "dr" / "backups" / "apim-db" / oldest)  # the copy is lost
    before = _folders(env, "primary")
    proc = env.run("backups", "forget", "apim-db", "--env", ".", "--keep-last", "1",
                   "--prune", "--auto-approve", env=at(3.5), check=1)
    assert f"snapshot {oldest} of apim-db is not yet copied to dr-vault" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert _folders(env, "primary") == before


def test_a_forget_that_leaves_a_drill_nothing_to_restore_is_refused(tmp_path: Path) -> None:
    drill = ("drills:\n  apim-restore:\n    backup: apim-db\n    from: dr-vault\n"
             "    pick: random\n    window: 36h\n    every: 300d\n"
             "    into: {database: {engine: sqlite, path: world/scratch/apim.db}}\n"
             "    verify: [{sql: \"SELECT count(*) FROM am_api\", expect: \"= 2\"}]\n")
    env = _env(tmp_path, KEEP_ALL + drill)
    oldest = snapshots(env)[0]["id"]
    env.run("backups", "pin", oldest, "--env", ".", env=at(3.5), check=0)
    before = _folders(env, "dr")
    proc = env.run("backups", "forget", "apim-db", "--env", ".", "--repository", "dr-vault",
                   "--keep-tag", "no-such-tag", "--prune", "--auto-approve", env=at(3.5),
                   check=1)
    assert "drill.apim-restore restores apim-db from dr-vault" in proc.stderr
    assert "within its window (drill guarantee)" in proc.stderr
    assert _folders(env, "dr") == before


def test_forget_refuses_json_without_approval_and_unknown_names(tmp_path: Path) -> None:
    env = _env(tmp_path, days=1)
    proc = env.run("backups", "forget", "apim-db", "--env", ".", "--prune", "--format", "json",
                   env=at(0.5), check=1)
    assert "--auto-approve" in proc.stderr and proc.stdout == ""
    proc = env.run("backups", "forget", "nope", "--env", ".", "--prune", "--auto-approve",
                   env=at(0.5), check=1)
    assert "no backup policy 'nope'" in proc.stderr
    proc = env.run("backups", "forget", "apim-db", "--env", ".", "--repository", "elsewhere",
                   "--prune", "--auto-approve", env=at(0.5), check=1)
    assert "--repository elsewhere" in proc.stderr
