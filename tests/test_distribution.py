"""The distribution from a clean start: the tracked files alone build an sdist and, from
it, the wheel (`python -m build`); the wheel carries the demo spec and its templates as
package data; the GitHub workflows' own install step, pointed at that wheel and its
sha256, installs it into a fresh venv outside the checkout (a wrong hash is refused);
there `drydock --version`, `python -m drydock`, `drydock init` and `drydock demo` run.

One test, since building and installing is the slow part (about a minute).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from engine import __version__
from tests.engine.commands.test_ci_examples import GITHUB, install_script

ROOT = Path(__file__).resolve().parents[1]
DEMO_FILES = sorted(p.relative_to(ROOT / "specs" / "demo").as_posix()
                    for p in (ROOT / "specs" / "demo").rglob("*")
                    if p.is_file() and ".drydock" not in p.parts
                    and not p.name.endswith(".local.yaml"))


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 600,
         check: int | None = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check is not None:
        assert done.returncode == check, (f"{' '.join(args)} exited {done.returncode}\n"
                                          f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def _clean_copy(target: Path) -> Path:
    """The checkout's tracked (and new, not ignored) files, as a fresh clone would have."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for rel in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    return target


def _outside_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.slow(36)
def test_the_wheel_installs_outside_the_checkout_and_runs_init_and_the_demo(
        tmp_path: Path) -> None:
    source = _clean_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
         cwd=tmp_path, env=dict(os.environ))
    wheel_name = f"drydock_estate-{__version__}-py3-none-any.whl"
    wheel = dist / wheel_name
    sdist = dist / f"drydock_estate-{__version__}.tar.gz"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {f"drydock/demo/{f}" for f in DEMO_FILES} <= names
    assert "drydock/__main__.py" in names and "testkit/__init__.py" in names
    assert not [n for n in names if n.startswith("specs/") or n.endswith(".local.yaml")]
    with tarfile.open(sdist) as tf:
        members = set(tf.getnames())
    assert {f"drydock_estate-{__version__}/specs/demo/{f}" for f in DEMO_FILES} <= members

    venv = tmp_path / "venv"
    work = tmp_path / "work"
    work.mkdir()
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work, env=dict(os.environ))
    env = _outside_env(venv)
    script, settings = install_script(GITHUB[0])
    assert settings["DRYDOCK_WHEEL"] == wheel_name
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    pinned = {**env, "DRYDOCK_RELEASE": dist.as_uri(), "DRYDOCK_WHEEL": wheel_name}
    wrong = _run(["bash", "-e", "-c", script], cwd=work, check=None,
                 env={**pinned, "DRYDOCK_WHEEL_SHA256": "0" * 64})
    assert wrong.returncode != 0 and "HASHES" in wrong.stderr.upper()
    assert not (venv / "bin" / "drydock").exists()
    installed = _run(["bash", "-e", "-c", script], cwd=work,
                     env={**pinned, "DRYDOCK_WHEEL_SHA256": digest})
    assert f"drydock {__version__}" in installed.stdout

    python = str(venv / "bin" / "python")
    where = _run([python, "-c", "import engine, drydock; print(engine.__file__); "
                                "print(drydock.__file__)"], cwd=work, env=env)
    site = venv.resolve()
    assert all(Path(line).resolve().is_relative_to(site) for line in where.stdout.split())
    assert __version__ in _run([python, "-m", "drydock", "--version"], cwd=work,
                               env=env).stdout

    drydock = str(venv / "bin" / "drydock")
    _run([drydock, "init", "prod"], cwd=work, env=env)
    assert (work / "prod" / "README.md").is_file()
    _run([drydock, "validate", "prod"], cwd=work, env=env)
    demo = _run([drydock, "demo"], cwd=work, env=env, timeout=900)
    assert "Demo complete" in demo.stdout
    assert (work / "drydock-demo" / ".drydock").is_dir()
    packaged = Path(where.stdout.split()[1]).parent / "demo"
    assert sorted(p.name for p in packaged.iterdir()) == sorted(
        {f.split("/")[0] for f in DEMO_FILES})  # the installed package was not written to
