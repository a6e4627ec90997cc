"""The pre-commit hook: `.pre-commit-hooks.yaml` declares `drydock-validate`, and its entry,
run the way pre-commit runs it (the changed files appended), validates their folders."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers.world import make_env, server_yaml

ROOT = Path(__file__).resolve().parents[1]


def _hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["drydock-validate"]
    return hooks[0]


def test_the_hook_is_a_python_hook_over_spec_files() -> None:
    hook = _hook()
    assert hook["language"] == "python"
    assert shlex.split(hook["entry"]) == ["drydock", "validate"]
    files = re.compile(hook["files"])
    assert files.search("specs/prod/servers.yaml") and files.search("specs/prod/data.yml")
    assert not files.search(".github/workflows/ci.yml")
    assert hook.get("pass_filenames", True) is True


def test_the_entry_with_changed_files_fails_on_a_broken_spec(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    args = shlex.split(_hook()["entry"])[1:]
    run = [sys.executable, "-m", "engine", *args]
    ok = subprocess.run([*run, str(env.spec / "servers.yaml")], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (env.spec / "servers.yaml").write_text("servers:\n  gw-1: {host: nowhere}\n")
    bad = subprocess.run([*run, str(env.spec / "servers.yaml")], capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 1
    assert "servers.yaml:2:" in bad.stdout and "error: 2 problem(s)" in bad.stderr
