"""Time the spec loader on generated estates of N servers (spec files only, no homes)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.estate import TEMPLATE


def write_spec(root: Path, servers: int, *, hosts: int = 10, patches: int = 5) -> Path:
    """A spec folder shaped like `bench.estate.make_estate`'s, without building any home."""
    spec = root / f"spec-{servers}"
    (spec / "templates").mkdir(parents=True, exist_ok=True)
    host_lines = "".join(
        f"  node-{h}: {{site: primary, root: \"{{{{ world }}}}/node-{h}\"}}\n"
        for h in range(hosts))
    patch_ids = ", ".join(f"WSO2-CARBON-PATCH-4.9.0-{n:04d}" for n in range(1, patches + 1))
    (spec / "env.yaml").write_text(
        "environment: bench\nvars: {world: world}\n"
        "state: {backend: local, path: state/bench.json}\n"
        "sites: {primary: {}}\nhosts:\n" + host_lines +
        "products:\n  wso2am-4.2.0:\n    pack: \"{{ world }}/packs/wso2am-4.2.0.zip\"\n"
        "    updates: \"{{ world }}/updates\"\n    patches: \"{{ world }}/patches\"\n")
    body = ["servers:\n"]
    for i in range(servers):
        name = f"s{i:05d}"
        body.append(
            f"  {name}:\n    host: node-{i % hosts}\n    product: wso2am-4.2.0\n"
            f"    home: opt/{name}\n    update_level: 14\n"
            f"    rollout: {{group: g{i % 50}, max_unavailable: 2}}\n"
            f"    patches: [{patch_ids}]\n    config:\n"
            "      repository/conf/deployment.toml:\n"
            "        template: templates/deployment.toml.j2\n"
            f"        vars: {{offset: {i % 100}}}\n"
            "      repository/conf/log4j2.properties:\n"
            f"        content: \"rootLogger.level = INFO\\n\"\n        mode: 416\n")
    (spec / "servers.yaml").write_text("".join(body))
    (spec / "templates" / "deployment.toml.j2").write_text(TEMPLATE)
    return spec


def run(sizes: tuple[int, ...] = (1000, 10000), repeat: int = 3) -> list[dict]:
    """Median seconds to load (parse, render, validate) a spec of each size."""
    from engine.spec.loader import load_spec

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spec = write_spec(Path(tmp), n)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                load_spec(spec)
                times.append(time.perf_counter() - start)
            rows.append({"servers": n, "load (s)": statistics.median(times),
                         "per server (ms)": statistics.median(times) / n * 1000})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
