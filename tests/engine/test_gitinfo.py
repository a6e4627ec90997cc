"""Git awareness on real repositories: commit, branch, dirty files, the spec at a base ref."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.gitinfo import (
    DirtySpecError,
    GitError,
    dirty_message,
    git_info,
    read_base_spec,
    require_committed,
    spec_diff_against,
    spec_status,
)
from engine.spec.loader import load_spec
from tests.engine.gitspecs import commit_all, make_repo, spec_data, write_spec


@pytest.fixture
def repo_with_spec(tmp_path: Path):
    repo = make_repo(tmp_path)
    spec = tmp_path / "specs" / "shop"
    write_spec(spec, spec_data())
    (spec / "templates").mkdir()
    (spec / "templates" / "a.j2").write_text("a = 1\n", encoding="utf-8")
    commit_all(repo, "shop environment")
    return repo, spec


def test_outside_a_repository_nothing_is_known(tmp_path: Path) -> None:
    write_spec(tmp_path / "shop", spec_data())
    status = spec_status(tmp_path / "shop")
    assert status.in_repo is False
    assert git_info(tmp_path / "shop").model_dump() == {"commit": None, "branch": None,
                                                         "dirty": False}


def test_outside_a_repository_apply_gets_a_warning_not_an_error(tmp_path: Path) -> None:
    write_spec(tmp_path / "shop", spec_data())
    warning = require_committed(tmp_path / "shop", allow_dirty=False)
    assert warning is not None and "not in a git repository" in warning


def test_clean_checkout_records_commit_and_branch(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    info = git_info(spec)
    assert info.commit == repo.head.commit.hexsha
    assert info.branch == "main"
    assert info.dirty is False
    assert require_committed(spec, allow_dirty=False) is None


def test_modified_tracked_file_is_dirty(repo_with_spec) -> None:
    _, spec = repo_with_spec
    with (spec / "environment.yaml").open("a", encoding="utf-8") as f:
        f.write("# edited\n")
    status = spec_status(spec)
    assert status.dirty_files == ("specs/shop/environment.yaml",)
    assert git_info(spec).dirty is True


def test_untracked_file_under_the_spec_folder_is_dirty(repo_with_spec) -> None:
    _, spec = repo_with_spec
    (spec / "templates" / "new.j2").write_text("x\n", encoding="utf-8")
    assert spec_status(spec).dirty_files == ("specs/shop/templates/new.j2",)


def test_changes_elsewhere_in_the_repository_do_not_count(repo_with_spec, tmp_path) -> None:
    _, spec = repo_with_spec
    (tmp_path / "README.md").write_text("notes\n", encoding="utf-8")
    write_spec(tmp_path / "specs" / "other", spec_data(environment="other"))
    assert spec_status(spec).dirty is False


def test_ignored_files_such_as_the_local_state_are_not_dirty(repo_with_spec) -> None:
    _, spec = repo_with_spec
    state = spec / ".drydock" / "state" / "shop.json"
    state.parent.mkdir(parents=True)
    state.write_text("{}", encoding="utf-8")
    assert spec_status(spec).dirty is False


def test_staged_deletion_is_dirty(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    repo.index.remove(["specs/shop/templates/a.j2"], working_tree=True)
    assert spec_status(spec).dirty_files == ("specs/shop/templates/a.j2",)


def test_detached_head_has_a_commit_but_no_branch(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    sha = repo.head.commit.hexsha
    repo.git.checkout(sha)
    info = git_info(spec)
    assert (info.commit, info.branch, info.dirty) == (sha, None, False)


def test_repository_without_commits(tmp_path: Path) -> None:
    make_repo(tmp_path)
    write_spec(tmp_path / "shop", spec_data())
    status = spec_status(tmp_path / "shop")
    assert status.in_repo is True
    assert (status.commit, status.branch) == (None, "main")
    assert status.dirty_files == ("shop/environment.yaml",)


def test_spec_folder_at_the_repository_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write_spec(tmp_path, spec_data())
    commit_all(repo, "root spec")
    assert spec_status(tmp_path).dirty is False
    (tmp_path / "extra.yaml").write_text("sites: {dr: {}}\n", encoding="utf-8")
    assert spec_status(tmp_path).dirty_files == ("extra.yaml",)


def test_dirty_refusal_names_five_files_then_counts_the_rest(repo_with_spec) -> None:
    _, spec = repo_with_spec
    for i in range(8):
        (spec / "templates" / f"t{i}.j2").write_text("x\n", encoding="utf-8")
    with pytest.raises(DirtySpecError) as caught:
        require_committed(spec, allow_dirty=False)
    message = str(caught.value)
    assert "\n" not in message
    assert "specs/shop/templates/t0.j2" in message and "specs/shop/templates/t4.j2" in message
    assert "t5.j2" not in message
    assert "and 3 more" in message
    assert "--allow-dirty" in message
    assert message == dirty_message(message.split(" has ")[0], spec_status(spec))


def test_allow_dirty_turns_the_refusal_into_a_warning(repo_with_spec) -> None:
    _, spec = repo_with_spec
    (spec / "templates" / "new.j2").write_text("x\n", encoding="utf-8")
    warning = require_committed(spec, allow_dirty=True)
    assert warning is not None and "uncommitted" in warning


def _branch_with_changes(repo, spec: Path) -> None:
    repo.git.checkout("-b", "feature")
    data = spec_data()
    data["servers"]["gw-1"]["update_level"] = 15
    data["databases"].pop("old_db")
    data["databases"]["new_db"] = {"engine": "sqlite", "path": "{{ world }}/new.db"}
    write_spec(spec, data)
    (spec / "templates" / "a.j2").write_text("a = 2\n", encoding="utf-8")
    commit_all(repo, "feature work")


def test_base_spec_is_read_from_the_merge_base_not_the_ref_tip(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    fork_point = repo.head.commit.hexsha
    _branch_with_changes(repo, spec)
    repo.git.checkout("main")
    data = spec_data()
    data["sites"]["dr"] = {"description": "added on main later"}
    write_spec(spec, data)
    commit_all(repo, "main moves on")
    repo.git.checkout("feature")
    base = read_base_spec(spec, "main")
    assert base.commit == fork_point
    assert base.exists is True
    assert list(base.sources) == ["main:specs/shop/environment.yaml"]
    assert "added on main later" not in next(iter(base.sources.values()))
    assert [(f.path, f.status) for f in base.files] == [("templates/a.j2", "changed")]


def test_diff_against_base_shows_exactly_the_branch_changes(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    _branch_with_changes(repo, spec)
    repo.git.checkout("main")
    data = spec_data()
    data["sites"]["dr"] = {}
    write_spec(spec, data)
    commit_all(repo, "main moves on")
    repo.git.checkout("feature")
    diff = spec_diff_against(spec, load_spec(spec).env, "main")
    assert diff.addresses("added") == ("database.new_db",)
    assert diff.addresses("removed") == ("database.old_db",)
    assert diff.addresses("changed") == ("server.gw-1",)
    (gw,) = [r for r in diff.resources if r.address == "server.gw-1"]
    assert [(k.key, k.before, k.after) for k in gw.keys] == [("update_level", 14, 15)]
    assert "site.dr" not in [r.address for r in diff.resources]
    assert [f.path for f in diff.files] == ["templates/a.j2"]


def test_uncommitted_work_is_part_of_the_diff(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    repo.git.checkout("-b", "wip")
    (spec / "templates" / "b.j2").write_text("b\n", encoding="utf-8")
    data = spec_data()
    data["sites"]["dr"] = {}
    write_spec(spec, data)
    diff = spec_diff_against(spec, load_spec(spec).env, "main")
    assert diff.addresses("added") == ("site.dr",)
    assert [(f.path, f.status) for f in diff.files] == [("templates/b.j2", "added")]


def test_spec_folder_new_on_the_branch_shows_everything_added(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (tmp_path / "README.md").write_text("x\n", encoding="utf-8")
    commit_all(repo, "start")
    repo.git.checkout("-b", "new-env")
    spec = tmp_path / "specs" / "shop"
    write_spec(spec, spec_data())
    commit_all(repo, "new environment")
    base = read_base_spec(spec, "main")
    assert base.exists is False and base.sources == {}
    diff = spec_diff_against(spec, load_spec(spec).env, "main")
    assert diff.base_error is None
    assert set(diff.addresses("added")) >= {"server.gw-1", "database.app_db"}


def test_base_that_does_not_parse_is_reported_and_compared_as_empty(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    (spec / "broken.yaml").write_text("servers: [not, a, mapping\n", encoding="utf-8")
    commit_all(repo, "broken on main")
    repo.git.checkout("-b", "fix")
    (spec / "broken.yaml").unlink()
    commit_all(repo, "fix")
    diff = spec_diff_against(spec, load_spec(spec).env, "main")
    assert diff.base_error is not None and diff.base_error.startswith("main:specs/shop/broken")
    assert "server.gw-1" in diff.addresses("added")


def test_unknown_ref_is_a_clear_error(repo_with_spec) -> None:
    _, spec = repo_with_spec
    with pytest.raises(GitError, match="unknown git ref 'origin/nope'; fetch it first"):
        read_base_spec(spec, "origin/nope")


def test_unrelated_history_is_a_clear_error(repo_with_spec) -> None:
    repo, spec = repo_with_spec
    repo.git.checkout("--orphan", "island")
    commit_all(repo, "unrelated root")
    with pytest.raises(GitError, match="no common history"):
        read_base_spec(spec, "main")


def test_base_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    write_spec(tmp_path / "shop", spec_data())
    with pytest.raises(GitError, match="not in a git repository; --base needs"):
        read_base_spec(tmp_path / "shop", "main")
