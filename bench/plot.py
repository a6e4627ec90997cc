"""Plot cost against N on log-log axes from a `python -m bench --json` file (matplotlib).

  python -m bench.plot rows.json docs/performance.png

matplotlib is a bench-only dependency (`make bench` installs it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def plot(rows_file: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = json.loads(rows_file.read_text())["rows"]
    series: dict[str, dict[int, float]] = {}
    for r in rows:
        if r["case"].startswith(("no-op plan", "converge")) and r["n"] > 1:
            series.setdefault(f"drydock: {r['case']}", {})[r["n"]] = r["drydock_s"]
            if r["floor_s"]:
                series.setdefault(f"floor: {r['floor']} ({r['case']})", {})[r["n"]] = r["floor_s"]
            if r["peer_s"]:
                series.setdefault(f"{r['peer']}", {})[r["n"]] = r["peer_s"]
    fig, ax = plt.subplots(figsize=(9, 6))
    for label, points in sorted(series.items()):
        xs = sorted(points)
        style = "--" if label.startswith("floor") else ("-" if label.startswith("drydock")
                                                        else ":")
        ax.plot(xs, [points[x] for x in xs], style, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("servers (52 managed files each)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("drydock against the floors and its peers, one run")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    plot(Path(sys.argv[1]), Path(sys.argv[2]))
