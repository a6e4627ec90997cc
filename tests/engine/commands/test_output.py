"""Output habits through the real CLI: JSON from the changing commands, graph of a saved
plan, markdown refused where there is none, colour rules, completion and --version."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.world import DRYDOCK, Env, make_env, server_yaml
from tests.integration.test_backups_flow import at, setup

ROOT = Path(__file__).resolve().parents[3]


def test_graph_of_a_saved_plan_draws_that_plan_without_planning(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    saved = json.loads(env.run("plan", ".", "-o", "p.json", "--format", "json",
                               check=0).stdout)
    (env.spec / "servers.yaml").write_text("servers:\n")  # the spec moved on
    doc = json.loads(env.run("graph", "p.json", "--format", "json", check=0).stdout)
    assert doc["plan"] == saved["id"]
    assert [n["id"] for n in doc["nodes"]] == [a["id"] for a in saved["actions"]]
    assert {"from": "server.gw-1/backup", "to": "server.gw-1/patch-add-patch0001"} in doc[
        "edges"]
    dot = env.run("graph", "p.json", check=0).stdout
    assert '"server.gw-1/backup" -> "server.gw-1/patch-add-patch0001"' in dot


def test_state_rm_rollback_and_unlock_answer_in_json(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1"), "gw-2": server_yaml("gw-2",
                                                                                offset=1)})
    env.run("apply", ".", "--auto-approve", check=0)
    removed = json.loads(env.run("state", "rm", "server.gw-2", "--env", ".", "--format",
                                 "json", check=0).stdout)
    assert removed["removed"] == "server.gw-2" and removed["serial"] == 2
    back = json.loads(env.run("state", "rollback", "1", "--env", ".", "--format", "json",
                              check=0).stdout)
    assert back == {"rolled_back_to": 1, "serial": 3, "lineage": removed["lineage"]}
    gone = env.run("state", "unlock", "no-such-lock", "--env", ".", "--format", "json")
    assert gone.returncode == 1 and gone.stdout == "" and gone.stderr.startswith("error:")
    refused = env.run("state", "list", "--env", ".", "--format", "markdown", check=1)
    assert refused.stderr == "error: --format markdown: this command writes text or json\n"


def test_pin_and_unpin_answer_in_json(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    listed = json.loads(env.run("backups", "list", "--env", ".", "--format", "json",
                                check=0).stdout)["snapshots"]
    sid = listed[0]["id"]
    pinned = json.loads(env.run("backups", "pin", sid, "--env", ".", "--format", "json",
                                env=at(0.1), check=0).stdout)
    assert pinned == {"snapshot": sid, "series": "apim-db", "pinned": True}
    unpinned = json.loads(env.run("backups", "unpin", sid, "--env", ".", "--format", "json",
                                  env=at(0.2), check=0).stdout)
    assert unpinned["pinned"] is False


def _on_a_terminal(env: Env, *args: str, extra: dict[str, str]) -> str:
    """Run drydock with stdout and stderr on a pseudo-terminal; return what it printed."""
    main, child = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen([*DRYDOCK, *args], cwd=env.spec, stdout=child, stderr=child,
                            stdin=subprocess.DEVNULL, env={**environ, "TERM": "xterm",
                                                           "COLUMNS": "120", **extra})
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    env = make_env(tmp_path, {})
    coloured = _on_a_terminal(env, "state", "show", "server.x", "--env", ".", extra={})
    assert "\x1b[" in coloured and "not in the state" in coloured
    for args, extra in ((("--no-color",), {}), ((), {"NO_COLOR": "1"})):
        plain = _on_a_terminal(env, *args, "state", "show", "server.x", "--env", ".",
                               extra=extra)
        assert "not in the state" in plain and "\x1b[" not in plain
    piped = env.run("state", "show", "server.x", "--env", ".", check=1)
    assert "\x1b[" not in piped.stderr


def test_completion_scripts_complete_subcommands(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    for shell in ("bash", "zsh", "fish"):
        script = subprocess.run([*DRYDOCK, "completion", shell], capture_output=True,
                                text=True, check=True).stdout
        assert "_DRYDOCK_COMPLETE=complete_" + shell in script
    if shutil.which("bash") and (bindir / "drydock").exists():
        probe = ('source <(drydock completion bash); COMP_WORDS=(drydock backups ch); '
                 'COMP_CWORD=2; _drydock_completion drydock; echo "${COMPREPLY[@]}"')
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True,
                              env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"},
                              cwd=tmp_path, check=True)
        assert done.stdout.split() == ["check"]


def test_version_names_the_plan_and_state_formats() -> None:
    from engine.contracts.models import Plan
    from state.document import StateDocument

    out = subprocess.run([*DRYDOCK, "--version"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith("drydock ")
    assert f"plan format {Plan.model_fields['format'].default}" in out
    assert f"state format {StateDocument.model_fields['format'].default}" in out


def test_validate_writes_its_verdict_to_stdout(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")})
    done = env.run("validate", ".", check=0)
    assert "valid." in done.stdout and done.stderr == ""
