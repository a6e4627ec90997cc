"""`--target` through the real CLI: unknown addresses fail, globs match, a warning shows."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.world import Env, make_env, server_yaml


def _env(tmp_path: Path) -> Env:
    return make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1]),
                               "gw-2": server_yaml("gw-2", patches=[1], offset=1),
                               "km-1": server_yaml("km-1", patches=[1], offset=2)})


def test_an_unknown_target_is_one_line_naming_it_and_exit_1(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = env.run("plan", ".", "--target", "server.gw-9", check=1)
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "server.gw-9" in proc.stderr and "no such resource" in proc.stderr
    glob = env.run("plan", ".", "--target", "server.web-*", check=1)
    assert "server.web-*" in glob.stderr and "matches no resource" in glob.stderr
    env.run("apply", ".", "--auto-approve", "--target", "server.nope", check=1)
    assert not (env.spec / "state" / "t.json").exists()


def test_a_glob_plans_exactly_the_matching_servers_with_a_warning(tmp_path: Path) -> None:
    env = _env(tmp_path)
    plan = json.loads(env.run("plan", ".", "--target", "server.gw-*", "--format", "json",
                              check=0).stdout)
    assert {a["address"] for a in plan["actions"]} == {"server.gw-1", "server.gw-2"}
    assert any("targeting is in effect" in w for w in plan["warnings"])
    text = env.run("plan", ".", "--target", "server.gw-*", check=0).stdout
    assert "warning: resource targeting is in effect" in text
    untargeted = env.run("plan", ".", check=0).stdout
    assert "targeting" not in untargeted


def test_apply_with_a_glob_changes_only_the_matching_servers(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = env.run("apply", ".", "--auto-approve", "--target", "server.gw-*", check=0)
    assert "targeting is in effect" in proc.stdout
    listed = env.run("state", "list", "--env", ".", check=0).stdout.split()
    assert listed == ["server.gw-1", "server.gw-2"]
    assert (env.home("gw-1") / "repository/components/patches/patch0001").is_dir()
    assert not (env.home("km-1") / "repository/components/patches/patch0001").exists()
    env.run("plan", ".", "-o", "p.json", check=0)
    refused = env.run("apply", "p.json", "--env", ".", "--target", "server.km-1", check=1)
    assert "saved plan" in refused.stderr
