"""`drydock import`: an existing product home (and database) declared as it is, once
imported, is in the state; the first plan — with or without a refresh — shows no
changes, and drift has a baseline at once. A home that differs shows exactly that
difference; bad addresses are refused with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.world import Env, make_env, seed_apis, server_yaml

RENDERED = '[server]\nhostname = "{name}"\noffset = 0\n'
DATABASE = "databases:\n  apim_db: {engine: sqlite, path: world/apim.db}\n"


def _existing(tmp_path: Path) -> Env:
    """A home configured by hand exactly as the spec says, and a database."""
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, extra_yaml=DATABASE)
    (env.home("gw-1") / "repository" / "conf" / "deployment.toml").write_text(
        RENDERED.format(name="gw-1"))
    seed_apis(env.world / "apim.db")
    return env


def _changes(env: Env, *args: str) -> list[dict]:
    plan = env.run("plan", ".", "--format", "json", *args, check=0)
    return json.loads(plan.stdout)["changes"]


def test_an_imported_home_that_matches_plans_no_changes(tmp_path: Path) -> None:
    env = _existing(tmp_path)
    assert [c["action"] for c in _changes(env, "--no-refresh")] == ["create", "create"]
    done = env.run("import", "server.gw-1", "database.apim_db", "--env", ".", check=0)
    assert "imported server.gw-1" in done.stdout and "differs" not in done.stdout
    assert env.run("state", "list", "--env", ".", check=0).stdout.split() == [
        "database.apim_db", "server.gw-1"]
    record = json.loads(env.run("state", "show", "server.gw-1", "--env", ".",
                                check=0).stdout)
    assert record["attributes"]["patches"] == []
    assert record["attributes"]["config:repository/conf/deployment.toml"].startswith("sha256:")
    assert _changes(env) == [] and _changes(env, "--no-refresh") == []
    plan = env.run("plan", ".", "--detailed-exitcode", check=0)
    assert "No changes" in plan.stdout
    assert env.run("drift", ".", check=0).returncode == 0
    conf = env.home("gw-1") / "repository" / "conf" / "deployment.toml"
    conf.write_text(conf.read_text() + "# edited by hand\n")
    assert env.run("drift", ".", check=2).returncode == 2  # the baseline came from import


def test_an_imported_home_that_differs_shows_only_that(tmp_path: Path) -> None:
    env = _existing(tmp_path)
    servers = env.spec / "servers.yaml"
    servers.write_text(servers.read_text().replace("patches: []", "patches: "
                                                   "[WSO2-CARBON-PATCH-4.2.0-0001]"))
    done = env.run("import", "server.gw-1", "--env", ".", "--format", "json", check=0)
    imported = json.loads(done.stdout)["imported"]
    assert [(d["name"], d["before"], d["after"]) for d in imported[0]["differences"]] == [
        ("patches", [], ["patch0001"])]
    changes = _changes(env)
    assert [(c["address"], c["action"]) for c in changes] == [("server.gw-1", "update")]
    assert [d["name"] for d in changes[0]["diffs"]] == ["patches"]


def test_bad_addresses_are_refused_and_nothing_is_recorded(tmp_path: Path) -> None:
    env = _existing(tmp_path)
    for args, said in [(("server.gw-9",), "not declared in the spec"),
                       (("backup.x",), "only servers and databases"),
                       (("server.gw-1", "server.gw-9"), "not declared in the spec")]:
        proc = env.run("import", *args, "--env", ".", check=1)
        assert said in proc.stderr and "nothing was imported" in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1
    assert env.run("state", "list", "--env", ".", check=0).stdout == ""
    env.run("import", "server.gw-1", "--env", ".", check=0)
    again = env.run("import", "server.gw-1", "--env", ".", check=1)
    assert "already in the state" in again.stderr


def test_a_declared_home_that_is_not_there_is_not_imported(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    proc = env.run("import", "server.gw-1", "--env", ".", check=1)
    assert "does not exist" in proc.stderr
