"""The no-op plan memo through the real CLI: kept after a plan that finds nothing to do,
used by the next plain plan, and never used once anything it rested on has moved."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.engine.plan_memo.conftest import Memoized, age, without_id

PLAN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
MEMO_FREE = ("pydantic", "networkx", "jinja2", "yaml", "engine.planning", "typer")


def test_a_second_plan_is_answered_from_the_memo_and_says_the_same(
        memoized: Memoized) -> None:
    full = memoized.plan("--format", "json").stdout
    assert len(memoized.memos()) == 1
    out, code, modules = memoized.fresh("--format", "json")
    assert code == 0
    assert without_id(out) == without_id(full)
    assert json.loads(out)["id"] != json.loads(full)["id"]
    assert [m for m in modules if m.split(".")[0] in MEMO_FREE or m in MEMO_FREE] == []
    text, code, _ = memoized.fresh("--detailed-exitcode")
    assert code == 0 and "No changes" in text


def test_the_text_and_markdown_answers_match_the_full_plan(memoized: Memoized) -> None:
    for fmt in ("text", "markdown"):
        full = memoized.plan("--format", fmt).stdout
        out, _, modules = memoized.fresh("--format", fmt)
        assert "pydantic" not in modules
        assert PLAN_ID.sub("ID", out) == PLAN_ID.sub("ID", full)
        assert PLAN_ID.findall(out) != PLAN_ID.findall(full)


def _hand_edit(m: Memoized) -> None:
    (m.env.home("gw-2") / "repository/conf/deployment.toml").write_text("edited by hand\n")


def _patch_gone(m: Memoized) -> None:
    import shutil

    shutil.rmtree(m.env.home("gw-1") / "repository/components/patches/patch0001")


def _product_moved(m: Memoized) -> None:
    (m.env.home("gw-1") / "updates/product.txt").write_text("wso2is-7.0.0")


def _spec_edit(m: Memoized) -> None:
    path = m.env.spec / "servers.yaml"
    path.write_text(path.read_text().replace("offset: 1}", "offset: 7}"))


def _template_edit(m: Memoized) -> None:
    path = m.env.spec / "templates/deployment.toml.j2"
    path.write_text(path.read_text() + "# one more line\n")


def _new_spec_file(m: Memoized) -> None:
    from tests.helpers.world import server_yaml

    (m.env.spec / "more.yaml").write_text("servers:\n" + server_yaml("gw-3", offset=3))


def _home_gone(m: Memoized) -> None:
    os.rename(m.env.home("gw-2"), m.env.home("gw-2").with_name("gw-2.moved"))


@pytest.mark.parametrize("change", [_hand_edit, _patch_gone, _product_moved, _spec_edit,
                                    _template_edit, _new_spec_file, _home_gone],
                         ids=lambda f: f.__name__.strip("_"))
def test_anything_the_plan_rested_on_moving_brings_the_full_plan_back(
        memoized: Memoized, change) -> None:
    memoized.plan()
    assert memoized.memos()
    change(memoized)
    age(memoized.env.spec)  # even an old-looking change is seen
    out, code, modules = memoized.fresh("--detailed-exitcode")
    assert code == 2, out
    assert "pydantic" in modules
    assert "No changes" not in out
    assert memoized.memos() == []  # a plan with something to say forgets the memo


def test_a_new_state_is_read_not_trusted(memoized: Memoized) -> None:
    memoized.plan()
    memoized.env.run("state", "rm", "server.gw-2", "--env", ".", env=memoized.vars, check=0)
    out, _, modules = memoized.fresh()
    assert "(state serial 2)" in out and "pydantic" in modules


def test_files_changed_moments_ago_are_not_trusted_by_their_stat(memoized: Memoized) -> None:
    memoized.plan()
    (memoized.env.home("gw-2") / "repository/conf/deployment.toml").touch()
    memoized.plan()  # the file's mtime is within the two seconds of doubt
    assert memoized.memos() == []
    _, _, modules = memoized.fresh()
    assert "pydantic" in modules


def test_a_memo_is_not_used_for_other_options_or_a_set_clock(memoized: Memoized) -> None:
    memoized.plan()
    for args in (["--target", "server.gw-1"], ["--no-refresh"], ["-o", "p.json"],
                 ["--format", "json", "--base", "HEAD"]):
        _, _, modules = memoized.fresh(*args)
        assert "pydantic" in modules, args
    os.environ["DRYDOCK_NOW"] = "2030-01-01T00:00:00Z"
    try:
        out, code, modules = memoized.fresh()
    finally:
        del os.environ["DRYDOCK_NOW"]
    assert code == 0 and "pydantic" in modules and "No changes" in out


def test_a_spec_with_backups_is_always_planned_in_full(memoized: Memoized) -> None:
    (memoized.env.spec / "backups.yaml").write_text(
        "repositories:\n  local: {kind: dir, path: repo}\n"
        "backups:\n  nightly:\n    repository: local\n    every: 1d\n"
        "    sources: [{paths: {server: gw-1, paths: [repository/conf]}}]\n"
        "    keep: {daily: 3}\n")
    memoized.plan(check=None)
    assert memoized.memos() == []


def test_a_corrupt_or_foreign_memo_is_ignored(memoized: Memoized) -> None:
    memoized.plan()
    [memo] = memoized.memos()
    memo.write_text("{not json")
    out, code, modules = memoized.fresh()
    assert code == 0 and "No changes" in out and "pydantic" in modules
    assert json.loads(memo.read_text())["format"] == 1  # the full plan kept a new one
    memo.chmod(0o666)
    _, _, modules = memoized.fresh()
    assert "pydantic" in modules  # writable by others: never read


def test_the_memo_lives_in_the_cache_folder_not_the_spec(memoized: Memoized) -> None:
    memoized.plan()
    [memo] = memoized.memos()
    assert memo.stat().st_mode & 0o777 == 0o600
    assert memo.parent.stat().st_mode & 0o777 == 0o700
    assert not [p for p in memoized.env.spec.rglob("*") if "plans" in p.parts]
    age(memoized.env.spec)
    assert Path(memo).is_relative_to(memoized.cache)
