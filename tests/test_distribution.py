"""The distribution from a clean start: the tracked files alone build an sdist and, from
it, the wheel (`python -m build`); the wheel carries the demo spec and its templates as
package data; the GitHub workflows' own install step, pointed at that wheel and its
sha256, installs it into a fresh venv outside the checkout (a wrong hash is refused);
there, from another folder, `drydock --version`, `python -m drydock`, `drydock init`,
`drydock demo`, `import` of an existing home followed by a plan without changes, and
`drydock schema` validating each packaged demo file on its own all work.

Building and installing is the slow part: it is done once per session (`installed`) and
shared by the tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import __version__
from tests.engine.commands.test_ci_examples import GITHUB, install_script

pytestmark = [pytest.mark.xdist_group("distribution"), pytest.mark.slow(20)]
"""One worker builds and installs once for all of them (about a minute), the first
handed out."""

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


@dataclass(frozen=True)
class Installed:
    """The built distribution and the venv outside the checkout it was installed into."""

    dist: Path
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]
    where: tuple[Path, Path]
    """Where `engine` and `drydock` were imported from, in that venv."""

    def drydock(self, *args: str, cwd: Path | None = None, timeout: int = 600,
                check: int | None = 0) -> subprocess.CompletedProcess[str]:
        return _run([str(self.venv / "bin" / "drydock"), *args], cwd=cwd or self.work,
                    env=self.env, timeout=timeout, check=check)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build from a clean copy and install the wheel with the workflows' own install step
    (a wrong sha256 refused first, installing nothing)."""
    tmp_path = tmp_path_factory.mktemp("distribution")
    source = _clean_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
         cwd=tmp_path, env=dict(os.environ))
    wheel_name = f"drydock_estate-{__version__}-py3-none-any.whl"
    venv = tmp_path / "venv"
    work = tmp_path / "work"
    work.mkdir()
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work, env=dict(os.environ))
    env = _outside_env(venv)
    script, settings = install_script(GITHUB[0])
    assert settings["DRYDOCK_WHEEL"] == wheel_name
    digest = hashlib.sha256((dist / wheel_name).read_bytes()).hexdigest()
    pinned = {**env, "DRYDOCK_RELEASE": dist.as_uri(), "DRYDOCK_WHEEL": wheel_name}
    wrong = _run(["bash", "-e", "-c", script], cwd=work, check=None,
                 env={**pinned, "DRYDOCK_WHEEL_SHA256": "0" * 64})
    assert wrong.returncode != 0 and "HASHES" in wrong.stderr.upper()
    assert not (venv / "bin" / "drydock").exists()
    done = _run(["bash", "-e", "-c", script], cwd=work,
                env={**pinned, "DRYDOCK_WHEEL_SHA256": digest})
    assert f"drydock {__version__}" in done.stdout
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import engine, drydock; print(engine.__file__); print(drydock.__file__)"],
                 cwd=work, env=env).stdout.split()
    return Installed(dist=dist, wheel=dist / wheel_name, venv=venv, work=work, env=env,
                     where=(Path(where[0]), Path(where[1])))


def test_the_wheel_and_sdist_carry_the_code_and_the_demo(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as zf:
        names = set(zf.namelist())
    assert {f"drydock/demo/{f}" for f in DEMO_FILES} <= names
    assert "drydock/__main__.py" in names and "testkit/__init__.py" in names
    assert not [n for n in names if n.startswith("specs/") or n.endswith(".local.yaml")]
    with tarfile.open(installed.dist / f"drydock_estate-{__version__}.tar.gz") as tf:
        members = set(tf.getnames())
    assert {f"drydock_estate-{__version__}/specs/demo/{f}" for f in DEMO_FILES} <= members


def test_the_installed_drydock_runs_from_its_venv_outside_the_checkout(
        installed: Installed) -> None:
    site = installed.venv.resolve()
    assert all(p.resolve().is_relative_to(site) for p in installed.where)
    python = str(installed.venv / "bin" / "python")
    assert __version__ in _run([python, "-m", "drydock", "--version"], cwd=installed.work,
                               env=installed.env).stdout
    installed.drydock("init", "prod")
    assert (installed.work / "prod" / "README.md").is_file()
    installed.drydock("validate", "prod")


def test_the_demo_runs_from_the_installed_package(installed: Installed,
                                                  tmp_path: Path) -> None:
    demo = installed.drydock("demo", cwd=tmp_path, timeout=900)
    assert "Demo complete" in demo.stdout
    assert (tmp_path / "drydock-demo" / ".drydock").is_dir()
    packaged = installed.where[1].parent / "demo"
    assert sorted(p.name for p in packaged.iterdir()) == sorted(
        {f.split("/")[0] for f in DEMO_FILES})  # the installed package was not written to


IMPORTED = """\
environment: adopted
vars: {world: world}
state: {backend: local, path: state/adopted.json}
sites: {primary: {}}
hosts:
  node-a: {site: primary, transport: local, root: "{{ world }}/primary"}
products:
  wso2am-4.2.0:
    pack: "{{ world }}/packs/wso2am-4.2.0.zip"
    updates: "{{ world }}/updates"
    patches: "{{ world }}/patches"
servers:
  gw-1: {host: node-a, product: wso2am-4.2.0, home: opt/gw-1, update_level: 3,
         patches: [WSO2-CARBON-PATCH-4.9.0-0002]}
"""


def test_an_imported_home_plans_no_changes_with_the_installed_drydock(
        installed: Installed, tmp_path: Path) -> None:
    """A home at level 3 with patch 2, made as the update client and a person leave it
    (with the installed package's own fixture builder), is adopted as it is."""
    python = str(installed.venv / "bin" / "python")
    _run([python, "-c", (
        "import sys; from pathlib import Path\n"
        "from testkit.builder import build_world, install_home\n"
        "from providers.hosts.local import LocalTransport\n"
        "from providers.product.patches import install_patch\n"
        "from providers.product.updates import install_level, package_path\n"
        "root = Path(sys.argv[1]); paths = build_world(root / 'world')\n"
        "home = root / 'world/primary/opt/gw-1'; install_home(paths.pack, home)\n"
        "for n in (1, 2, 3):\n"
        "    install_level(LocalTransport(), home, package_path(paths.updates, '4.9.0', n),\n"
        "                  product='wso2am', version='4.2.0', level=n, pack=paths.pack)\n"
        "install_patch(LocalTransport(), home, paths.patches / "
        "'WSO2-CARBON-PATCH-4.9.0-0002.zip', 'WSO2-CARBON-PATCH-4.9.0-0002', "
        "'patch0002')\n"),
        str(tmp_path)], cwd=tmp_path, env=installed.env)
    (tmp_path / "env.yaml").write_text(IMPORTED)
    done = installed.drydock("import", "server.gw-1", "--env", ".", cwd=tmp_path)
    assert "imported server.gw-1" in done.stdout + done.stderr
    plan = installed.drydock("plan", ".", "--detailed-exitcode", cwd=tmp_path)
    assert "No changes" in plan.stdout


def test_the_installed_schema_validates_each_packaged_demo_file_alone(
        installed: Installed, tmp_path: Path) -> None:
    schema = tmp_path / "drydock.schema.json"
    schema.write_text(installed.drydock("schema").stdout)
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker is not None, "check-jsonschema is a test dependency"
    files = sorted((installed.where[1].parent / "demo").glob("*.yaml"))
    assert len(files) >= 3
    done = _run([checker, "--schemafile", str(schema), *map(str, files)], cwd=tmp_path,
                env=dict(os.environ), check=None)  # each file is validated on its own
    assert done.returncode == 0, done.stdout + done.stderr
