"""Run drydock's benchmarks and print one table per benchmark.

  python -m bench                 # default sizes
  python -m bench plan --servers 2000
  python -m bench retention --snapshots 1000000
  python -m bench backup --size 256M
  python -m bench ssh --homes 50  # refresh over ssh vs local (needs openssh-server)
  python -m bench loader          # spec loading at 1,000 and 10,000 servers
"""

from __future__ import annotations

import argparse
import importlib

from rich.console import Console
from rich.table import Table


def _table(title: str, rows: list[dict]) -> None:
    table = Table(title=title)
    if not rows:
        return
    for key in rows[0]:
        table.add_column(key, justify="right" if isinstance(rows[0][key], int | float) else "left")
    for row in rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=180).print(table)


def main() -> None:
    """Parse arguments and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("which", nargs="*", default=["plan", "retention", "backup", "ssh"])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--size", default="256M")
    parser.add_argument("--homes", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    if "plan" in args.which:
        from bench.plan_bench import run

        _table(f"plan/apply on {args.servers} servers", run(args.servers))
    if "loader" in args.which:
        from bench.loader_bench import run as run_loader

        _table("spec loader", run_loader())
    if "retention" in args.which:
        mod = importlib.import_module("bench.retention_bench")
        _table(f"retention on {args.snapshots} snapshots", mod.run(args.snapshots))
    if "backup" in args.which:
        mod = importlib.import_module("bench.backup_throughput")
        _table(f"backup/restore throughput ({args.size})", mod.run(args))
    if "ssh" in args.which:
        mod = importlib.import_module("bench.ssh_refresh")
        try:
            rows = mod.run(args.homes, args.parallelism)
        except RuntimeError as exc:
            print(f"ssh refresh: skipped ({exc})")
        else:
            _table(f"refresh of {args.homes} homes over ssh vs local "
                   f"(parallelism {args.parallelism})", rows)


if __name__ == "__main__":
    main()
