"""`drydock fmt`: rewrites files in place (mode kept), lists what changed; `--check`
changes nothing and exits 2; a file that cannot be formatted stops all writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.engine.spec.test_canonical import CANONICAL, MESSY


def _drydock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=120)


def _folder(tmp_path: Path) -> Path:
    env = tmp_path / "prod"
    env.mkdir()
    (env / "servers.yaml").write_text(MESSY)
    (env / "servers.yaml").chmod(0o640)
    (env / "env.yaml").write_text("environment: prod\n")
    return env


def test_check_lists_and_changes_nothing_then_fmt_rewrites(tmp_path: Path) -> None:
    env = _folder(tmp_path)
    check = _drydock("fmt", "--check", "--diff", "prod", cwd=tmp_path)
    assert check.returncode == 2
    assert check.stdout.splitlines()[0] == "prod/servers.yaml"
    assert "+  gw-1:       # first" in check.stdout
    assert (env / "servers.yaml").read_text() == MESSY
    done = _drydock("fmt", "prod", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "prod/servers.yaml\n"
    assert (env / "servers.yaml").read_text() == CANONICAL
    assert (env / "servers.yaml").stat().st_mode & 0o777 == 0o640
    assert _drydock("fmt", "--check", "prod", cwd=tmp_path).returncode == 0


def test_one_bad_file_stops_every_write(tmp_path: Path) -> None:
    env = _folder(tmp_path)
    (env / "zz.yaml").write_text("a: [1, 2\n")
    done = _drydock("fmt", "prod", cwd=tmp_path)
    assert done.returncode == 1
    assert "prod/zz.yaml:" in done.stderr and "nothing was changed" in done.stderr
    assert (env / "servers.yaml").read_text() == MESSY
