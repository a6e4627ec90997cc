"""Every loader attack through the real CLI: exit 1, one located line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.spec.test_yamlpos import ALIAS_BOMB
from tests.helpers.world import make_env, server_yaml

ENV = """\
environment: t
sites: {primary: {}}
hosts: {node-a: {site: primary, root: world}}
products: {p-1.0: {pack: world/p.zip}}
"""


def server(extra: str = "", home: str = "opt/gw-1", config: str = "") -> str:
    return ("servers:\n  gw-1:\n    host: node-a\n    product: p-1.0\n"
            f"    home: {home}\n{extra}" + (f"    config:\n{config}" if config else ""))


ATTACKS = {
    "alias-bomb": ALIAS_BOMB.replace("a: &a", "x-a: &a"),
    "deep-nesting": "vars: {x: " + "[" * 5000 + "]" * 5000 + "}\n",
    "python-object": "vars: {x: !!python/object/apply:os.system [id]}\n",
    "bad-timestamp": "vars: {x: !!timestamp yesterday}\n",
    "5000-digits": server("    update_level: " + "7" * 5000 + "\n"),
    "huge-update-level": server("    update_level: 99999999999\n"),
    "bad-mode": server(config="      conf/x: {content: x, mode: \"0999\"}\n"),
    "config-key-dotdot": server(config="      ../../../../x: {content: x}\n"),
    "config-key-proc": server(config="      /proc/self/environ: {content: x}\n"),
    "template-outside": server(config="      conf/x: {template: ../x}\n"),
    "home-etc": server(home="/etc"),
    "divide-by-zero": server(config="      conf/x: {template: t.j2}\n"),
}
EXPECTED = {
    "alias-bomb": "YAML aliases expand to more than",
    "deep-nesting": "nesting",
    "python-object": "YAML tag !!python/object/apply:os.system is not allowed",
    "bad-timestamp": "'yesterday' is not a valid YAML timestamp",
    "5000-digits": "number with 5000 digits",
    "huge-update-level": "update level 99999999999 is out of range",
    "bad-mode": "mode '0999' is not a file mode",
    "config-key-dotdot": "'..' is not allowed",
    "config-key-proc": "must be relative",
    "template-outside": "resolves outside the spec folder",
    "home-etc": "must be relative",
    "divide-by-zero": "t.j2:1:1: template: ZeroDivisionError: division by zero",
}


def run(spec: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args, str(spec)], cwd=spec,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_one_located_line(tmp_path: Path, attack: str, command: str) -> None:
    (tmp_path / "env.yaml").write_text(ENV)
    (tmp_path / "attack.yaml").write_text(ATTACKS[attack])
    (tmp_path / "t.j2").write_text("x = {{ 1/0 }}\n")
    (tmp_path.parent / "x").write_text("SECRET=hunter2\n")
    proc = run(tmp_path, command)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr + proc.stdout
    # validate reports problems as its results (stdout); plan fails with them (stderr)
    shown = proc.stdout if command == "validate" else proc.stderr
    problems = [ln for ln in shown.splitlines() if not ln.startswith("error:")]
    assert len(problems) == 1, proc.stdout + proc.stderr
    file, line, col, message = problems[0].split(":", 3)
    assert file.endswith((".yaml", ".j2")) and line.isdigit() and col.isdigit(), problems
    assert EXPECTED[attack] in problems[0], problems


def test_level_beyond_the_updates_folder_is_a_plan_error(tmp_path: Path) -> None:
    """The world's updates folder offers levels 1..14; asking for 9999 is refused at once,
    naming the server and the highest level, instead of visiting every level."""
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", extra="    update_level: 9999\n")})
    proc = env.run("plan")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if "update_level" in ln]
    assert line.startswith("error: server.gw-1: update_level 9999 is beyond the updates folder ")
    assert line.endswith("which offers levels up to 14")


@pytest.mark.parametrize("command", [["drift"], ["graph"], ["apply", "--auto-approve"]])
@pytest.mark.parametrize("attack", ["alias-bomb", "divide-by-zero", "config-key-proc"])
def test_other_commands_stop_the_same_way(tmp_path: Path, attack: str,
                                          command: list[str]) -> None:
    (tmp_path / "env.yaml").write_text(ENV)
    (tmp_path / "attack.yaml").write_text(ATTACKS[attack])
    (tmp_path / "t.j2").write_text("x = {{ 1/0 }}\n")
    proc = run(tmp_path, *command)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert [ln for ln in proc.stderr.splitlines() if EXPECTED[attack] in ln], proc.stderr
    assert not (tmp_path / ".drydock").exists() or not any((tmp_path / ".drydock").rglob("*.json"))
