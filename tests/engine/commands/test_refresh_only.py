"""`--refresh-only`: a plan with no action that accepts drift into the state. After a hand
edit, `plan --refresh-only` shows the drift and applying it records the file as it is,
so drift is gone and the next plan wants to put the declared file back; nothing in the
world changes on the way."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.world import make_env, server_yaml, tree_digest


def test_drift_is_accepted_into_the_state_and_nothing_else_changes(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")})
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    conf = env.home("gw-1") / "repository" / "conf" / "deployment.toml"
    conf.write_text(conf.read_text() + "# tuned by hand\n")
    assert env.run("drift", ".", check=2).returncode == 2
    before = tree_digest(env.world)

    plan = json.loads(env.run("plan", ".", "--refresh-only", "--format", "json",
                              check=0).stdout)
    assert plan["actions"] == [] and plan["changes"] == []
    assert [d["address"] for d in plan["drift"]] == ["server.gw-1"]
    assert [r["address"] for r in plan["records"]] == ["server.gw-1"]
    assert any("refresh-only" in w for w in plan["warnings"])
    exit_code = env.run("plan", ".", "--refresh-only", "--detailed-exitcode", check=2)
    assert "server.gw-1" in exit_code.stdout

    env.run("plan", ".", "--refresh-only", "-o", "accept.json", check=0)
    env.run("apply", "accept.json", "--env", ".", "--allow-dirty", check=0)
    assert tree_digest(env.world, skip=(".drydock",)) == {
        k: v for k, v in before.items() if not k.startswith(".drydock")}
    assert env.run("drift", ".", check=0).returncode == 0
    again = json.loads(env.run("plan", ".", "--format", "json", check=0).stdout)
    assert [(c["address"], c["action"]) for c in again["changes"]] == [("server.gw-1",
                                                                         "update")]


def test_apply_refresh_only_and_a_gone_home_is_forgotten(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1"), "gw-2": server_yaml("gw-2")})
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    import shutil

    shutil.rmtree(env.home("gw-2"))
    env.run("apply", ".", "--refresh-only", "--auto-approve", "--allow-dirty", check=0)
    assert env.run("state", "list", "--env", ".", check=0).stdout.split() == ["server.gw-1"]
    nothing = env.run("plan", ".", "--refresh-only", "--detailed-exitcode", check=0)
    assert "no drift" in nothing.stdout + nothing.stderr
