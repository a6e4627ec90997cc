"""Build small, real environments in a temporary folder: a world, homes and a spec."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from testkit.builder import WorldPaths, build_world, install_home
from tests.helpers.zygote import cli

DRYDOCK = [sys.executable, "-m", "engine"]

BASE = """\
environment: {env}
vars: {{world: world}}
state: {{backend: local, path: state/{env}.json}}
sites: {{primary: {{}}, dr: {{}}}}
hosts:
  node-a: {{site: primary, transport: local, root: "{{{{ world }}}}/primary"}}
products:
  wso2am-4.2.0:
    pack: "{{{{ world }}}}/packs/wso2am-4.2.0.zip"
    updates: "{{{{ world }}}}/updates"
    patches: "{{{{ world }}}}/patches"
"""

TEMPLATE = """\
[server]
hostname = "{{ server }}"
offset = {{ offset }}
"""


@dataclass
class Env:
    """A spec folder with its world."""

    spec: Path
    world: Path

    def home(self, server: str) -> Path:
        """The product home of a server on node-a."""
        return self.world / "primary" / "opt" / server

    def run(self, *args: str, env: dict[str, str] | None = None,
            check: int | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real drydock CLI in a child process (forked warm, tests/helpers/zygote.py)."""
        proc = cli(list(args), cwd=self.spec, env={**os.environ, **(env or {})})
        if check is not None and proc.returncode != check:
            raise AssertionError(f"drydock {' '.join(args)} exited {proc.returncode}, expected "
                                 f"{check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc


def server_yaml(name: str, *, patches: list[int] = (), offset: int = 0,
                extra: str = "") -> str:
    """The YAML of one server on node-a."""
    ids = ", ".join(f"WSO2-CARBON-PATCH-4.9.0-{n:04d}" for n in patches)
    return (f"  {name}:\n    host: node-a\n    product: wso2am-4.2.0\n    home: opt/{name}\n"
            f"    patches: [{ids}]\n    config:\n"
            f"      repository/conf/deployment.toml:\n"
            f"        template: templates/deployment.toml.j2\n        vars: {{offset: {offset}}}\n"
            + extra)


_BUILT: list[WorldPaths] = []


def world_copy(root: Path) -> WorldPaths:
    """What `build_world(root)` makes, copied from the one world this test process built
    (its bytes are the same every time; the copies get fresh modification times)."""
    if not _BUILT:
        base = Path(tempfile.mkdtemp(prefix="drydock-world-"))
        atexit.register(shutil.rmtree, base, True)
        _BUILT.append(build_world(base / "world"))
    built = _BUILT[0]
    shutil.copytree(built.root, root, copy_function=shutil.copy, dirs_exist_ok=True)

    def moved(path: Path) -> Path:
        return root / path.relative_to(built.root)

    return built.model_copy(update={
        "root": root, "packs": moved(built.packs), "updates": moved(built.updates),
        "patches": moved(built.patches), "pack": moved(built.pack),
        "update_files": tuple(map(moved, built.update_files)),
        "patch_files": tuple(map(moved, built.patch_files))})


def make_env(root: Path, servers: dict[str, str], *, name: str = "t", install: bool = True,
             extra_yaml: str = "") -> Env:
    """A spec folder `root/spec` with servers (name -> YAML from `server_yaml`)."""
    spec = root / "spec"
    world = spec / "world"
    (spec / "templates").mkdir(parents=True)
    paths = world_copy(world)
    (spec / "env.yaml").write_text(BASE.format(env=name))
    (spec / "servers.yaml").write_text("servers:\n" + "".join(servers.values()))
    if extra_yaml:
        (spec / "extra.yaml").write_text(extra_yaml)
    (spec / "templates" / "deployment.toml.j2").write_text(TEMPLATE)
    if install:
        for server in servers:
            install_home(paths.pack, world / "primary" / "opt" / server)
    return Env(spec=spec, world=world)


def tree_digest(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """relative path -> sha256 (or 'dir'/'link:target') of everything under `root`."""
    import hashlib

    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + f":{path.stat().st_mode:o}"
    return out


def seed_apis(path: Path, names: tuple[str, ...] = ("a", "b")) -> Path:
    """A small SQLite database with an `am_api` table holding one row per name."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE am_api (id INTEGER PRIMARY KEY, name TEXT)")
        con.executemany("INSERT INTO am_api (name) VALUES (?)", [(n,) for n in names])
        con.commit()
    finally:
        con.close()
    return path
