"""Real server estates in a temporary folder: a world, homes at a level, services on free
ports, rollout groups, and plan/apply through the engine's own operations."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from engine.apply import ApplyResult
from engine.contracts.models import Plan
from engine.operations.plan_apply import apply_plan, plan_workspace
from engine.wiring import default_registry
from engine.workspace import Workspace, open_workspace
from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from providers.product.updates import install_level, package_path
from state.document import StateDocument
from testkit.builder import build_pack, sign_in_update_client
from tests.helpers.world import BASE, world_copy
from tests.helpers.zygote import cli

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

CHILD_ENV = {"DRYDOCK_PYTHON": sys.executable, "DRYDOCK_STOP_TIMEOUT": "20"}
RUNTIME = ("repository/logs", "wso2carbon.pid", "repository/components/patches/patch0000",
           "repository/components/patches/.metadata")

TEMPLATE = """\
[server]
hostname = "{{ server }}"
offset = 0
http_port = {{ port }}
{% if fail %}fail_start = true
{% endif %}"""


def free_port() -> int:
    """A TCP port nothing listens on right now (bind port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gateway:
    """One server of the estate as the spec declares it."""

    name: str
    port: int = field(default_factory=free_port)
    level: int | None = None
    patches: tuple[int, ...] = ()
    strategy: str = "in-place"
    conflicts: str = "refuse"
    group: str | None = None
    max_unavailable: int = 1
    fail: bool = False
    service: bool = True
    health_timeout: str = "15s"
    failing_timeout: str = "4s"

    def yaml(self) -> str:
        """The server's YAML under `servers:`."""
        ids = ", ".join(f"WSO2-CARBON-PATCH-4.9.0-{n:04d}" for n in self.patches)
        out = (f"  {self.name}:\n    host: node-a\n    product: wso2am-4.2.0\n"
               f"    home: opt/{self.name}\n    strategy: {self.strategy}\n"
               f"    conflicts: {self.conflicts}\n    patches: [{ids}]\n")
        if self.level is not None:
            out += f"    update_level: {self.level}\n"
        out += ("    config:\n      repository/conf/deployment.toml:\n"
                "        template: templates/deployment.toml.j2\n"
                f"        vars: {{port: {self.port}, fail: {str(self.fail).lower()}}}\n")
        if self.service:
            out += ("    service:\n      start: bin/api-manager.sh start\n"
                    "      stop: bin/api-manager.sh stop\n"
                    f"      health: {{http: \"{self.url('Version')}\", "
                    f"timeout: {self.failing_timeout if self.fail else self.health_timeout}}}\n")
        if self.group:
            out += (f"    rollout: {{group: {self.group}, "
                    f"max_unavailable: {self.max_unavailable}}}\n")
        return out

    def url(self, what: str = "Status") -> str:
        """`http://127.0.0.1:<port>/services/<what>`."""
        return f"http://127.0.0.1:{self.port}/services/{what}"


@dataclass
class Estate:
    """A spec folder, its world and the servers it declares."""

    spec: Path
    world: Path
    servers: dict[str, Gateway] = field(default_factory=dict)

    def home(self, name: str) -> Path:
        """The product home of a server."""
        return self.world / "primary" / "opt" / name

    def declare(self, *servers: Gateway) -> None:
        """Rewrite servers.yaml with exactly `servers`."""
        self.servers = {s.name: s for s in servers}
        text = "servers:\n" + "".join(s.yaml() for s in servers) if servers else "servers: {}\n"
        (self.spec / "servers.yaml").write_text(text)

    def workspace(self) -> Workspace:
        """The environment opened with the default providers."""
        return open_workspace(self.spec, default_registry())

    def plan(self) -> Plan:
        """A fresh plan against the current state."""
        return plan_workspace(self.workspace(), datetime.now(UTC))

    def apply(self) -> tuple[Plan, ApplyResult, StateDocument]:
        """Plan and apply through engine.operations.plan_apply (as `apply --auto-approve`)."""
        ws = self.workspace()
        now = datetime.now(UTC)
        with ws.state.lock("apply"):
            doc = ws.state.read()
            made = plan_workspace(ws, now, doc=doc)
            result, stored = apply_plan(ws, made, now, doc=doc, parallelism=4)
        return made, result, stored

    def run(self, *args: str, check: int | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """The real drydock CLI in a child process, in the spec folder (forked warm)."""
        proc = cli(list(args), cwd=self.spec, env={**os.environ, **CHILD_ENV, **(env or {})})
        if check is not None and proc.returncode != check:
            raise AssertionError(f"drydock {' '.join(args)} exited {proc.returncode}, expected "
                                 f"{check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def stop_all(self) -> None:
        """Stop every server whose home is under the world (on any site), killing any that
        will not stop."""
        for home in sorted(self.world.glob("*/opt/*")):
            stop_home(home)


def make_estate(root: Path, *, name: str = "t") -> Estate:
    """A spec folder `root/spec` with a world holding the pack, updates 1..14 and patches."""
    spec = root / "spec"
    world = spec / "world"
    (spec / "templates").mkdir(parents=True)
    world_copy(world)
    (spec / "env.yaml").write_text(BASE.format(env=name))
    (spec / "templates" / "deployment.toml.j2").write_text(TEMPLATE)
    estate = Estate(spec=spec, world=world)
    estate.declare()
    return estate


def level_pack(estate: Estate, level: int) -> Path:
    """Build the updated pack at `level` beside the product pack, from the world's updates."""
    return build_pack(estate.world / "packs", level=level, updates_dir=estate.world / "updates")


def home_at_level(estate: Estate, name: str, level: int) -> Path:
    """Install the product pack as `name`'s home, sign in to the update client (its
    account and tokens go into `updates/config.json`) and apply levels 1..level with the
    update installer."""
    home = estate.home(name)
    install_pack(T, estate.world / "packs" / "wso2am-4.2.0.zip", home)
    sign_in_update_client(home)
    for n in range(1, level + 1):
        install_level(T, home, package_path(estate.world / "updates", "4.9.0", n),
                      product="wso2am", version="4.2.0", level=n,
                      pack=estate.world / "packs" / "wso2am-4.2.0.zip")
    return home


def stop_home(home: Path) -> None:
    """Run the home's stop script; SIGKILL the recorded pid if it does not stop."""
    script = home / "bin" / "api-manager.sh"
    if not script.exists():
        return
    proc = subprocess.run([str(script), "stop"], env={**os.environ, **CHILD_ENV},
                          capture_output=True, text=True, timeout=60, check=False)
    pid_file = home / "wso2carbon.pid"
    if proc.returncode != 0 and pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass


def http_get(url: str) -> tuple[int | None, str]:
    """(status, body) of a GET; (None, '') when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError):
        return None, ""


def server_status(gateway: Gateway) -> dict | None:
    """The JSON of the running server's /services/Status, or None when it does not answer."""
    status, body = http_get(gateway.url("Status"))
    return json.loads(body) if status == 200 else None


def tree(home: Path) -> dict[str, str]:
    """relative path -> sha256:mode (or 'dir') of a home, without runtime files."""
    out: dict[str, str] = {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in RUNTIME):
            continue
        if path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() + \
                f":{path.stat().st_mode:o}"
    return out


def update_package(path: Path, *, level: int, members: dict[str, bytes],
                   added: list[str], raw: list[zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes]]
                   = ()) -> Path:
    """A hand-made update package: descriptor, `members` (name -> bytes) and raw entries."""
    sums = {p: {"before": None, "after": "sha256:" + hashlib.sha256(
        members.get(f"carbon.home/{p}", b"")).hexdigest()} for p in added}
    descriptor = {
        "update_number": f"{level:04d}", "platform_version": "4.9.0", "platform_name": "carbon",
        "description": "test", "bug_fixes": {},
        "compatible_products": [{"product_name": "wso2am", "product_version": "4.2.0",
                                 "added_files": added, "modified_files": [],
                                 "removed_files": []}],
        "checksums": sums,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("update-descriptor3.yaml", yaml.safe_dump(descriptor))
        for name, data in members.items():
            zf.writestr(name, data)
        for item in raw:
            info, data = item if isinstance(item, tuple) else (item, b"")
            zf.writestr(info, data)
    return path
