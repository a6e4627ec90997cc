"""Synthetic estates: a spec folder with N servers whose homes really exist on disk.

Homes are hard-linked copies of one installed pack, so thousands of them cost seconds;
each server's managed deployment.toml is a real, separate file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from testkit.builder import build_world, install_home

TEMPLATE = "[server]\nhostname = \"{{ server }}\"\noffset = {{ offset }}\n"


def _link_tree(src: Path, dst: Path) -> None:
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for d in dirs:
            (dst / rel / d).mkdir(exist_ok=True)
        for f in files:
            os.link(Path(root) / f, dst / rel / f)


def make_estate(root: Path, servers: int, *, hosts: int = 10, patches: int = 2) -> Path:
    """Build (or reuse) a spec folder under `root` with `servers` servers; returns it."""
    spec = root / f"estate-{servers}"
    marker = spec / ".complete"
    if marker.exists():
        return spec
    if spec.exists():
        shutil.rmtree(spec)
    (spec / "templates").mkdir(parents=True)
    world = spec / "world"
    paths = build_world(world)
    golden = world / "golden"
    install_home(paths.pack, golden)
    (golden / "repository/conf/deployment.toml").unlink()
    host_lines = "".join(
        f"  node-{h}: {{site: primary, root: \"{{{{ world }}}}/node-{h}\"}}\n"
        for h in range(hosts))
    patch_ids = ", ".join(f"WSO2-CARBON-PATCH-4.9.0-{n:04d}" for n in range(1, patches + 1))
    lines = ["environment: bench\nvars: {world: world}\n",
             "state: {backend: local, path: state/bench.json}\n",
             "sites: {primary: {}}\nhosts:\n", host_lines,
             "products:\n  wso2am-4.2.0:\n    pack: \"{{ world }}/packs/wso2am-4.2.0.zip\"\n"
             "    updates: \"{{ world }}/updates\"\n    patches: \"{{ world }}/patches\"\n"]
    (spec / "env.yaml").write_text("".join(lines))
    body = ["servers:\n"]
    for i in range(servers):
        name = f"s{i:05d}"
        host = f"node-{i % hosts}"
        body.append(f"  {name}: {{host: {host}, product: wso2am-4.2.0, home: opt/{name}, "
                    f"rollout: {{group: g{i % 50}, max_unavailable: 2}}, "
                    f"patches: [{patch_ids}], config: {{repository/conf/deployment.toml: "
                    "{template: templates/deployment.toml.j2, vars: "
                    f"{{offset: {i % 100}}}}}}}}}\n")
        _link_tree(golden, world / host / "opt" / name)
    (spec / "servers.yaml").write_text("".join(body))
    (spec / "templates" / "deployment.toml.j2").write_text(TEMPLATE)
    marker.touch()
    return spec
