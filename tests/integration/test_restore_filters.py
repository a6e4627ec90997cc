"""`restore --include/--exclude` of path snapshots taken by drydock's own backups: into an
empty folder, and onto a server where only the selected files change."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.world import make_env, server_yaml
from tests.integration.test_backups_flow import at
from tests.integration.test_backups_inspect import _ids, files  # noqa: F401 - the fixture

SERVER_BACKUP = """\
repositories:
  v: {site: primary, type: local, path: vault}
backups:
  gw-1-runtime: {source: {server: gw-1}, every: 24h, keep: {last: 5}, repository: v}
"""


def test_include_and_exclude_into_an_empty_folder(files, tmp_path: Path) -> None:  # noqa: F811
    first, _second = _ids(files)
    dest = tmp_path / "look"
    proc = files.run("restore", first, "--to", f"dir:{dest}", "--env", ".", "--include",
                     "conf", "--exclude", "same.txt", "--auto-approve", "--format", "json",
                     check=0)
    result = json.loads(proc.stdout)
    assert result["ok"] is True and result["counts"]["ok"] == 1
    restored = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert restored == ["conf/a.toml"]
    assert (dest / "conf" / "a.toml").read_text() == "a = 1\n"
    assert "--include conf --exclude same.txt" in proc.stderr  # the plan, on stderr


def test_a_pattern_selecting_nothing_fails_and_writes_nothing(files, tmp_path: Path) -> None:  # noqa: F811
    first, _second = _ids(files)
    dest = tmp_path / "empty"
    proc = files.run("restore", first, "--to", f"dir:{dest}", "--env", ".", "--include",
                     "*.nothing", "--auto-approve", check=1)
    assert "select nothing" in proc.stderr
    assert not dest.exists() or not any(dest.iterdir())


def test_onto_a_server_only_the_selected_file_changes(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, extra_yaml=SERVER_BACKUP)
    conf = env.home("gw-1") / "repository" / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "custom.xml").write_text("<v>1</v>\n")
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    sid = max(_ids(env))  # the install's post-change snapshot holds custom.xml as v1 too
    (conf / "custom.xml").write_text("<v>2</v>\n")
    (conf / "later.xml").write_text("<later/>\n")
    deployment = (conf / "deployment.toml").read_text()
    env.run("restore", sid, "--to", "server.gw-1", "--env", ".", "--include",
            "repository/conf/custom.xml", "--auto-approve", env=at(0.5), check=0)
    assert (conf / "custom.xml").read_text() == "<v>1</v>\n"
    assert (conf / "later.xml").read_text() == "<later/>\n"  # not in the snapshot: kept
    assert (conf / "deployment.toml").read_text() == deployment


def test_filters_are_refused_for_dumps_and_change_backups(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")})
    proc = env.run("restore", "gw-1@latest", "--to", "server.gw-1", "--env", ".",
                   "--include", "x", check=1)
    assert "--include/--exclude go with a snapshot of paths" in proc.stderr
    proc = env.run("restore", "x", "--to", "dir:/tmp/x", "--env", ".", "--format",
                   "markdown", check=1)
    assert "--format markdown" in proc.stderr
