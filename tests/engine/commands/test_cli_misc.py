"""The smaller commands through the real CLI: state, show, graph, schema."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.world import make_env, server_yaml


def test_state_list_show_rm_history_rollback(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1]),
                              "gw-2": server_yaml("gw-2", offset=1)})
    env.run("apply", ".", "--auto-approve", check=0)
    listed = env.run("state", "list", "--env", ".", check=0).stdout.split()
    assert listed == ["server.gw-1", "server.gw-2"]
    shown = json.loads(env.run("state", "show", "server.gw-1", "--env", ".", check=0).stdout)
    assert shown["attributes"]["patches"] == ["patch0001"]
    env.run("state", "rm", "server.gw-2", "--env", ".", check=0)
    assert env.run("state", "list", "--env", ".", check=0).stdout.split() == ["server.gw-1"]
    missing = env.run("state", "show", "server.gw-2", "--env", ".", check=1)
    assert "not in the state" in missing.stderr
    history = env.run("state", "history", "--env", ".", check=0).stdout
    assert "state rm server.gw-2" in history and " 1 " in history
    env.run("state", "rollback", "1", "--env", ".", check=0)
    assert env.run("state", "list", "--env", ".", check=0).stdout.split() == [
        "server.gw-1", "server.gw-2"]
    entries = json.loads(env.run("state", "history", "--env", ".", "--format", "json",
                                 check=0).stdout)
    assert entries[0]["serial"] == 3 and "rollback to 1" in entries[0]["applied"]["summary"]


def test_show_renders_a_saved_plan_and_refuses_garbage(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("plan", ".", "-o", "p.json", check=0)
    text = env.run("show", "p.json", check=0).stdout
    assert "server.patch.add" in text
    md = env.run("show", "p.json", "--format", "markdown", check=0).stdout
    assert "server.patch.add" in md and "<details>" in md
    (env.spec / "bad.json").write_text("{not json")
    bad = env.run("show", "bad.json", check=1)
    assert "bad.json" in bad.stderr and "not a drydock plan" in bad.stderr


def test_graph_dot_and_mermaid(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    dot = env.run("graph", ".", check=0).stdout
    assert dot.startswith("digraph") and '"server.gw-1/backup" -> "server.gw-1/patch-add' in dot
    mermaid = env.run("graph", ".", "--format", "mermaid", check=0).stdout
    assert mermaid.startswith("flowchart LR") and "-->" in mermaid


def test_schema_is_json_schema_of_the_spec(tmp_path: Path) -> None:
    env = make_env(tmp_path, {})
    schema = json.loads(env.run("schema", check=0).stdout)
    assert "servers" in schema["properties"] and "backups" in schema["properties"]


def test_plan_json_is_parseable_and_has_no_progress(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    proc = env.run("plan", ".", "--format", "json", check=0)
    plan = json.loads(proc.stdout)
    for key in ("format", "environment", "created_at", "spec_digest", "git", "state",
                "changes", "drift", "actions", "summary"):
        assert key in plan
    assert plan["actions"][0]["type"] == "server.backup"


def test_drydock_now_must_be_rfc3339(tmp_path: Path) -> None:
    env = make_env(tmp_path, {})
    proc = env.run("plan", ".", env={"DRYDOCK_NOW": "yesterday"}, check=1)
    assert "DRYDOCK_NOW" in proc.stderr and proc.stderr.count("\n") == 1


def test_apply_json_reports_every_action_on_stdout(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    proc = env.run("apply", ".", "--auto-approve", "--format", "json", check=0)
    result = json.loads(proc.stdout)
    assert result["ok"] is True and result["serial"] == 1
    assert [a["id"] for a in result["actions"]][:2] == ["server.gw-1/backup",
                                                         "server.gw-1/patch-add-patch0001"]
    assert "Actions, in order:" in proc.stderr


def test_target_limits_the_plan_to_the_named_resources(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1]),
                              "gw-2": server_yaml("gw-2", offset=1)}, extra_yaml=(
        "databases:\n  db: {engine: sqlite, path: world/db.sqlite}\n"
        "repositories:\n  v: {type: local, site: primary, path: vault}\n"
        "backups:\n  db: {source: {database: db}, every: 1h, repository: v}\n"))
    plan = json.loads(env.run("plan", ".", "--target", "server.gw-1", "--format", "json",
                              check=0).stdout)
    assert {a["address"] for a in plan["actions"]} == {"server.gw-1"}
    plan = json.loads(env.run("plan", ".", "--target", "database", "--format", "json",
                              check=0).stdout)
    assert {a["address"] for a in plan["actions"]} == {"database.db"}
