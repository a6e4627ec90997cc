"""A converged environment of two servers whose files are older than the memo's two
seconds of doubt, and a plan run in a fresh interpreter that tells which modules it
loaded (a plan answered from the memo never imports pydantic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.world import Env, make_env, server_yaml


def age(root: Path, seconds: int = 60) -> None:
    """Move every mtime under `root` `seconds` into the past (time passing, without waiting)."""
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            st = path.lstat()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9),
                     follow_symlinks=False)


@dataclass
class Memoized:
    """An applied environment and its own cache folder."""

    env: Env
    cache: Path

    @property
    def vars(self) -> dict[str, str]:
        return {"DRYDOCK_CACHE_DIR": str(self.cache)}

    def memos(self) -> list[Path]:
        return sorted((self.cache / "plans").glob("*.json"))

    def plan(self, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        """`drydock plan .` through the test's warm CLI (the full command or the shortcut)."""
        return self.env.run("plan", ".", *args, env=self.vars, check=check)

    def fresh(self, *args: str) -> tuple[str, int, set[str]]:
        """`drydock plan . ARGS` in a new interpreter: stdout, exit code, modules loaded."""
        code = ("import sys\nsys.argv = ['drydock', 'plan', '.', *sys.argv[1:]]\n"
                "from engine.cli import main\ncode = 0\n"
                "try:\n    main()\nexcept SystemExit as e:\n    code = e.code or 0\n"
                "sys.stdout.flush()\n"
                "print('\\nMODULES', code, ' '.join(sorted(sys.modules)))\n")
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=self.env.spec,
                              env={**os.environ, **self.vars}, capture_output=True,
                              text=True, check=False, timeout=120)
        out, _, tail = done.stdout.rpartition("\nMODULES ")
        status, _, mods = tail.partition(" ")
        assert status.strip(), done.stderr
        return out, int(status), set(mods.split())


def without_id(text: str) -> str:
    """A plan's JSON without what differs from run to run (its id and time)."""
    doc = json.loads(text)
    doc.pop("id"), doc.pop("created_at")
    return json.dumps(doc, sort_keys=True)


@pytest.fixture
def memoized(tmp_path: Path) -> Memoized:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1]),
                              "gw-2": server_yaml("gw-2", offset=1)})
    made = Memoized(env, tmp_path / "cache")
    env.run("apply", ".", "--auto-approve", env=made.vars, check=0)
    age(env.spec)
    return made
