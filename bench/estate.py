"""Synthetic estates: a spec folder with N carbon servers whose homes really exist on disk.

Every server declares `PATCHES` patches of `JARS` jars each and two config files (one
rendered from a template, one literal), so a converged home holds 52 managed files by
default. Homes are hard-linked copies of one installed pack (plus, when `converged`, the
patch folders), so thousands of them cost seconds; each server's config files are real,
separate files. The same description (`Estate.managed`) feeds the Puppet manifest and the
Ansible playbook in `bench/peers.py`, so the peers manage exactly the same files.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from testkit.builder import build_patch, build_world, install_home, patch_name
from testkit.builder_zip import write_atomic

TEMPLATE = "[server]\nhostname = \"{{ server }}\"\noffset = {{ offset }}\n"
LOG4J = "rootLogger.level = INFO\n"
VERSION = "4.2.0"  # wso2am 4.2.0 ...
KERNEL = "4.9.0"  # ... runs on Carbon kernel 4.9.0: patches are named for the kernel
PATCHES, JARS, HOSTS = 5, 10, 10
DEPLOYMENT = "repository/conf/deployment.toml"
LOG4J_PATH = "repository/conf/log4j2.properties"


@dataclass(frozen=True)
class Estate:
    """A generated estate: its spec folder and what each server manages."""

    spec: Path
    servers: int
    homes: tuple[Path, ...]

    def managed(self, i: int) -> dict[str, bytes]:
        """Server i's managed files, home-relative path -> the bytes drydock writes."""
        return managed_files(i, self.golden)

    @property
    def golden(self) -> Path:
        return self.spec / "world" / "golden-patched"

    def managed_paths(self) -> list[Path]:
        """Every managed file of the estate (for the stat and sha256 floors)."""
        rels = sorted(managed_files(0, self.golden))
        return [home / rel for home in self.homes for rel in rels]


def rendered(i: int) -> str:
    """The deployment.toml drydock renders for server i (the template above)."""
    return f"[server]\nhostname = \"s{i:05d}\"\noffset = {i % 100}\n"


def managed_files(i: int, golden: Path) -> dict[str, bytes]:
    out = {DEPLOYMENT: rendered(i).encode(), LOG4J_PATH: LOG4J.encode()}
    patches = golden / "repository/components/patches"
    for folder in sorted(patches.iterdir()) if patches.exists() else []:
        for jar in sorted(folder.iterdir()):
            out[str(jar.relative_to(golden))] = jar.read_bytes()
    return out


def _link_tree(src: Path, dst: Path) -> None:
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for d in dirs:
            (dst / rel / d).mkdir(exist_ok=True)
        for f in files:
            os.link(Path(root) / f, dst / rel / f)


def _server_yaml(i: int, patch_ids: str) -> str:
    name = f"s{i:05d}"
    return (f"  {name}:\n    host: node-{i % HOSTS}\n    product: wso2am-{VERSION}\n"
            f"    home: opt/{name}\n"
            f"    rollout: {{group: g{i % 50}, max_unavailable: 2}}\n"
            f"    patches: [{patch_ids}]\n    config:\n"
            f"      {DEPLOYMENT}:\n        template: templates/deployment.toml.j2\n"
            f"        vars: {{offset: {i % 100}}}\n"
            f"      {LOG4J_PATH}:\n        content: {json.dumps(LOG4J)}\n")


def home_of(spec: Path, i: int) -> Path:
    return spec / "world" / f"node-{i % HOSTS}" / "opt" / f"s{i:05d}"


def write_spec(spec: Path, servers: int) -> None:
    """The spec files alone (env.yaml, servers.yaml, the template)."""
    (spec / "templates").mkdir(parents=True, exist_ok=True)
    host_lines = "".join(
        f"  node-{h}: {{site: primary, root: \"{{{{ world }}}}/node-{h}\"}}\n"
        for h in range(HOSTS))
    patch_ids = ", ".join(patch_name(KERNEL, n) for n in range(1, PATCHES + 1))
    (spec / "env.yaml").write_text(
        "environment: bench\nvars: {world: world}\n"
        "state: {backend: local, path: state/bench.json}\n"
        "sites: {primary: {}}\nhosts:\n" + host_lines +
        f"products:\n  wso2am-{VERSION}:\n"
        f"    pack: \"{{{{ world }}}}/packs/wso2am-{VERSION}.zip\"\n"
        "    updates: \"{{ world }}/updates\"\n    patches: \"{{ world }}/patches\"\n")
    (spec / "servers.yaml").write_text(
        "servers:\n" + "".join(_server_yaml(i, patch_ids) for i in range(servers)))
    (spec / "templates" / "deployment.toml.j2").write_text(TEMPLATE)


def _goldens(world: Path) -> tuple[Path, Path]:
    """An installed pack, and the same with the patch folders in place."""
    paths = build_world(world, levels=1, patches=())
    for n in range(1, PATCHES + 1):
        build_patch(paths.patches, KERNEL, n, jars=JARS)
    golden = world / "golden"
    if not golden.exists():
        install_home(paths.pack, golden)
        (golden / DEPLOYMENT).unlink(missing_ok=True)
    patched = world / "golden-patched"
    if not patched.exists():
        _link_tree(golden, patched)
        import zipfile

        for n in range(1, PATCHES + 1):
            pid = patch_name(KERNEL, n)
            with zipfile.ZipFile(paths.patches / f"{pid}.zip") as z:
                for member in z.namelist():
                    if f"/patch{n:04d}/" in member and not member.endswith("/"):
                        rel = member.split("/", 1)[1]
                        write_atomic(patched / "repository/components/patches" / rel,
                                     z.read(member))
    return golden, patched


def make_estate(root: Path, servers: int, *, converged: bool = True) -> Estate:
    """Build (or reuse) an estate of `servers` servers under `root`.

    `converged`: the homes already hold the patches and config files drydock would write
    (only the state is missing: one apply records it without writing a file); otherwise
    the homes are bare installed packs that a converge must fill.
    """
    spec = root / f"estate-{servers}-{'c' if converged else 'b'}"
    homes = tuple(home_of(spec, i) for i in range(servers))
    marker = spec / ".complete"
    if marker.exists():
        return Estate(spec, servers, homes)
    if spec.exists():
        shutil.rmtree(spec)
    write_spec(spec, servers)
    golden, patched = _goldens(spec / "world")
    for i, home in enumerate(homes):
        _link_tree(patched if converged else golden, home)
        if converged:
            (home / DEPLOYMENT).write_text(rendered(i))
            (home / LOG4J_PATH).write_text(LOG4J)
    marker.touch()
    return Estate(spec, servers, homes)
