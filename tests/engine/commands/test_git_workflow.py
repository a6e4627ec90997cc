"""The git workflow through the real CLI: PR plans with a spec diff, the dirty-tree guard,
commits recorded in the state, saved plans applied after merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.contracts.models import Plan
from tests.engine.gitspecs import (
    commit_all,
    db_only,
    make_repo,
    run_drydock,
    seed_sqlite,
    spec_data,
    write_spec,
)

SPEC = "specs/shop"


@pytest.fixture
def branch_repo(tmp_path: Path):
    """main with the shop spec; branch `feature` changes it; main then moves on."""
    repo = make_repo(tmp_path)
    spec = tmp_path / SPEC
    write_spec(spec, spec_data())
    commit_all(repo, "shop")
    repo.git.checkout("-b", "feature")
    data = spec_data()
    data["servers"]["gw-1"]["update_level"] = 15
    data["servers"]["gw-1"]["patches"].append("WSO2-CARBON-PATCH-4.9.0-0002")
    data["databases"].pop("old_db")
    data["databases"]["new_db"] = {"engine": "sqlite", "path": "{{ world }}/new.db"}
    write_spec(spec, data)
    commit_all(repo, "feature: level 15, new_db, drop old_db")
    repo.git.checkout("main")
    moved = spec_data()
    moved["sites"]["dr"] = {"description": "landed on main after the branch"}
    write_spec(spec, moved)
    commit_all(repo, "main: dr site")
    repo.git.checkout("feature")
    return repo, tmp_path


def _spec_section(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return lines[:lines.index("")]


def test_pr_plan_text_shows_exactly_the_branch_changes_then_the_plan(branch_repo) -> None:
    repo, root = branch_repo
    done = run_drydock(["plan", SPEC, "--base", "main", "--no-refresh"], root)
    assert done.returncode == 0, done.stderr
    fork = repo.merge_base("main", "feature")[0].hexsha
    assert _spec_section(done.stdout)[0] == (
        f"Spec changes since main (merge-base {fork[:10]}): 1 added, 1 removed, 1 changed")
    assert "site.dr" not in done.stdout
    assert done.stdout.index("Spec changes since main") < done.stdout.index("drydock plan ")
    assert f"spec at feature@{repo.head.commit.hexsha[:10]}" in done.stdout


def test_pr_plan_lists_added_resources_in_section_order(branch_repo) -> None:
    _, root = branch_repo
    done = run_drydock(["plan", SPEC, "--base", "main", "--no-refresh"], root)
    section = _spec_section(done.stdout)
    assert section[1:] == [
        "~ server.gw-1",
        '    ~ patches: ["WSO2-CARBON-PATCH-4.9.0-0001"] → '
        '["WSO2-CARBON-PATCH-4.9.0-0001", "WSO2-CARBON-PATCH-4.9.0-0002"]',
        "    ~ update_level: 14 → 15",
        "+ database.new_db",
        "- database.old_db",
    ]


def test_pr_plan_markdown_is_a_comment_with_marker_spec_diff_and_plan(branch_repo) -> None:
    _, root = branch_repo
    done = run_drydock(["plan", SPEC, "--base", "main", "--no-refresh", "--format", "markdown",
                        "--full-plan-url", "https://ci.example/runs/7"], root)
    assert done.returncode == 0, done.stderr
    md = done.stdout
    assert md.startswith("<!-- drydock-plan:shop -->\n")
    assert md.index("Spec changes since main") < md.index("<summary>Changes (")
    assert "+ database.new_db" in md and "- database.old_db" in md
    assert "    ~ update_level: 14 → 15" in md
    assert "site.dr" not in md
    assert "| Resources to add |" in md


def test_pr_plan_json_keeps_the_plan_and_adds_spec_diff(branch_repo, tmp_path) -> None:
    _, root = branch_repo
    saved = tmp_path / "out" / "plan.json"
    done = run_drydock(["plan", SPEC, "--base", "main", "--no-refresh", "--format", "json",
                        "-o", str(saved)], root)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    spec_diff = printed.pop("spec_diff")
    assert {r["address"]: r["status"] for r in spec_diff["resources"]} == {
        "server.gw-1": "changed", "database.new_db": "added", "database.old_db": "removed"}
    assert spec_diff["base_ref"] == "main"
    plan = Plan.model_validate(printed)
    assert plan.environment == "shop" and plan.git.branch == "feature"
    assert "spec_diff" not in json.loads(saved.read_text(encoding="utf-8"))


def test_base_ref_problems_are_one_line_errors(branch_repo, tmp_path_factory) -> None:
    _, root = branch_repo
    done = run_drydock(["plan", SPEC, "--base", "origin/missing", "--no-refresh"], root)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: unknown git ref 'origin/missing'; fetch it first (e.g. git fetch origin main; "
        "CI checkouts need full history, fetch-depth: 0)"]
    elsewhere = tmp_path_factory.mktemp("outside-git")
    outside = elsewhere / "loose"
    write_spec(outside, db_only())
    done = run_drydock(["plan", str(outside), "--base", "main"], elsewhere)
    assert done.returncode == 1
    assert "is not in a git repository; --base needs the spec in git" in done.stderr


@pytest.fixture
def db_repo(tmp_path: Path):
    repo = make_repo(tmp_path)
    write_spec(tmp_path / SPEC, db_only())
    seed_sqlite(tmp_path / SPEC, "app", "old", "extra")
    commit_all(repo, "shop databases")
    return repo, tmp_path


def _state(root: Path) -> dict:
    return json.loads((root / SPEC / ".drydock" / "state" / "shop.json").read_text("utf-8"))


def test_dirty_tree_is_refused_and_allow_dirty_proceeds(db_repo) -> None:
    repo, root = db_repo
    data = db_only()
    data["databases"]["extra_db"] = {"engine": "sqlite", "path": "{{ world }}/extra.db"}
    write_spec(root / SPEC, data)
    (root / SPEC / "notes.txt").write_text("todo\n", encoding="utf-8")

    refused = run_drydock(["apply", SPEC, "--auto-approve"], root)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: {SPEC} has uncommitted changes ({SPEC}/environment.yaml, {SPEC}/notes.txt); "
        "commit them (generated files such as .drydock/ belong in .gitignore), or pass "
        "--allow-dirty to apply anyway"]
    assert not (root / SPEC / ".drydock" / "state").exists()  # nothing was recorded

    allowed = run_drydock(["apply", SPEC, "--auto-approve", "--allow-dirty"], root)
    assert allowed.returncode == 0, allowed.stderr
    assert "database.extra_db" in _state(root)["resources"]
    applied = _state(root)["applied"]
    assert (applied["commit"], applied["dirty"]) == (repo.head.commit.hexsha, True)


def test_clean_apply_records_the_commit_and_state_history_shows_it(db_repo) -> None:
    repo, root = db_repo
    done = run_drydock(["apply", SPEC, "--auto-approve"], root)
    assert done.returncode == 0, done.stderr
    assert "uncommitted" not in done.stderr
    sha = repo.head.commit.hexsha
    applied = _state(root)["applied"]
    assert (applied["commit"], applied["branch"], applied["dirty"]) == (sha, "main", False)

    history = run_drydock(["state", "history", "--env", SPEC], root)
    assert history.returncode == 0, history.stderr
    header, *rows = history.stdout.splitlines()
    assert header.split() == ["serial", "time", "who", "commit", "summary"]
    last = rows[-1].split()
    assert last[0] == "1"
    assert last[1] == "2026-03-01T10:00:00+00:00"
    assert "@" in last[2]
    assert last[3] == sha[:10]
    assert " ".join(last[4:]) == "0 ok, 0 failed, 0 skipped"  # the databases existed


def test_ignored_state_files_do_not_make_the_tree_dirty(db_repo) -> None:
    _, root = db_repo
    assert run_drydock(["apply", SPEC, "--auto-approve"], root).returncode == 0
    assert (root / SPEC / ".drydock" / "state" / "shop.json").is_file()
    again = run_drydock(["apply", SPEC, "--auto-approve"], root)
    assert again.returncode == 0, again.stderr


def test_outside_git_apply_warns_and_proceeds(tmp_path: Path) -> None:
    spec = tmp_path / "shop"
    write_spec(spec, db_only())
    seed_sqlite(spec, "app", "old")
    done = run_drydock(["apply", str(spec), "--auto-approve"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: shop is not in a git repository" in done.stderr
    assert _state_at(spec)["applied"]["commit"] is None


def _state_at(spec: Path) -> dict:
    return json.loads((spec / ".drydock" / "state" / "shop.json").read_text("utf-8"))


def test_saved_plan_applies_once_and_is_refused_when_stale(db_repo, tmp_path) -> None:
    repo, root = db_repo
    artifact = tmp_path / "artifact" / "plan.json"
    made = run_drydock(["plan", SPEC, "-o", str(artifact)], root)
    assert made.returncode == 0, made.stderr
    planned_at = repo.head.commit.hexsha
    (root / "README.md").write_text("merged\n", encoding="utf-8")
    merged_at = commit_all(repo, "merge: the spec itself is unchanged")
    first = run_drydock(["apply", str(artifact), "--env", SPEC], root)
    assert first.returncode == 0, first.stderr
    assert json.loads(artifact.read_text("utf-8"))["git"]["commit"] == planned_at
    assert _state(root)["applied"]["commit"] == merged_at  # where apply ran, same spec
    second = run_drydock(["apply", str(artifact), "--env", SPEC], root)
    assert second.returncode == 1
    assert second.stderr.startswith("error: plan ")
    assert "run 'drydock plan' again" in second.stderr


def test_saved_plan_made_from_uncommitted_specs_needs_allow_dirty(db_repo, tmp_path) -> None:
    repo, root = db_repo
    data = db_only()
    data["databases"]["extra_db"] = {"engine": "sqlite", "path": "{{ world }}/extra.db"}
    write_spec(root / SPEC, data)
    artifact = tmp_path / "plan.json"
    assert run_drydock(["plan", SPEC, "-o", str(artifact)], root).returncode == 0
    commit_all(repo, "extra_db")  # the tree is clean again, the plan still says dirty
    refused = run_drydock(["apply", str(artifact), "--env", SPEC], root)
    assert refused.returncode == 1
    assert "was made from uncommitted specs" in refused.stderr
    allowed = run_drydock(["apply", str(artifact), "--env", SPEC, "--allow-dirty"], root)
    assert allowed.returncode == 0, allowed.stderr
