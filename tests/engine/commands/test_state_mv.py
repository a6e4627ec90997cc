"""`drydock state mv`: after a rename in the spec the record follows, so the next plan
neither deletes nor creates; wrong moves are refused with nothing changed; a held lock
is waited for with --lock-timeout."""

from __future__ import annotations

import json
from pathlib import Path

from state.lock import LocalLock
from tests.helpers.world import make_env, server_yaml


def test_a_renamed_server_keeps_its_record(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    servers = env.spec / "servers.yaml"
    servers.write_text(servers.read_text().replace("  gw-1:\n", "  gw-a1:\n", 1))
    env.run("state", "mv", "server.gw-1", "server.gw-a1", "--env", ".", check=0)
    listed = env.run("state", "list", "--env", ".", check=0).stdout.split()
    assert listed == ["server.gw-a1"]
    shown = json.loads(env.run("state", "show", "server.gw-a1", "--env", ".", check=0).stdout)
    assert shown["name"] == "gw-a1" and shown["attributes"]["patches"] == ["patch0001"]
    plan = env.run("plan", ".", "--format", "json", check=0)
    changes = json.loads(plan.stdout)["changes"]
    # Neither a delete of the old address nor a create of the new one: only the rendered
    # deployment.toml differs, since its template writes the server's name.
    assert [(c["address"], c["action"]) for c in changes] == [("server.gw-a1", "update")]
    assert [d["name"] for d in changes[0]["diffs"]] == ["config:repository/conf/deployment.toml"]


def test_wrong_moves_are_refused_and_change_nothing(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1"), "gw-2": server_yaml("gw-2")})
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    state = env.spec / "state" / "t.json"
    before = state.read_bytes()
    for args, said in [(("server.gw-9", "server.gw-3"), "not in the state"),
                       (("server.gw-1", "server.gw-2"), "already in the state"),
                       (("server.gw-1", "database.gw-1"), "a server stays a server"),
                       (("gw-1", "server.gw-3"), "not an address")]:
        proc = env.run("state", "mv", *args, "--env", ".", check=1)
        assert said in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert state.read_bytes() == before


def test_a_held_lock_is_refused_after_the_lock_timeout(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")})
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    held = LocalLock(env.spec / "state" / "t.json").acquire("apply")
    proc = env.run("state", "mv", "server.gw-1", "server.gw-3", "--env", ".",
                   "--lock-timeout", "1s", check=1)
    assert "locked by apply" in proc.stderr and "waiting 1s" in proc.stderr
    bad = env.run("state", "mv", "server.gw-1", "server.gw-3", "--env", ".",
                  "--lock-timeout", "soon", check=2)
    assert "invalid duration" in bad.stderr
    assert held.operation == "apply"
