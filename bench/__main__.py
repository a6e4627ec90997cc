"""`make bench` / `python -m bench`: one table of drydock against its peers and the floors.

  python -m bench                       # the full table (tens of minutes on 2 cores)
  python -m bench --quick               # the smallest sizes, one run each, no peers
  python -m bench --json out.json       # also save the rows (docs/performance.md's plot)
  python -m bench --only start,warm     # some cases only (see CASES in bench/table.py)

Every figure is the median of several runs made in this one invocation; peak RSS is the
highest of the runs (from wait4, per child). Peers are installed when missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.table import CASES, Settings, render_markdown, run_cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smallest sizes, one run each, no peers (a smoke test)")
    parser.add_argument("--runs", type=int, default=None, help="runs per drydock figure")
    parser.add_argument("--peer-runs", type=int, default=None, help="runs per peer figure")
    parser.add_argument("--no-peers", action="store_true", help="skip Puppet and Ansible")
    parser.add_argument("--ansible-sizes", default="10",
                        help="estate sizes Ansible runs at (e.g. 10,100; each item costs it "
                             "a module run, so 100 servers take many minutes)")
    parser.add_argument("--big-runs", type=int, default=2,
                        help="runs of the heaviest cases (10,000 servers, converges)")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(CASES)}")
    parser.add_argument("--root", type=Path, default=Path("/tmp/drydock-bench"),
                        help="where the generated estates live (reused between runs)")
    parser.add_argument("--json", type=Path, default=None, help="save the rows as JSON")
    args = parser.parse_args(argv)
    settings = Settings.make(quick=args.quick, runs=args.runs, peer_runs=args.peer_runs,
                             peers=not (args.no_peers or args.quick), root=args.root,
                             ansible_sizes=tuple(int(n) for n in args.ansible_sizes.split(",")
                                                 if n),
                             big_runs=args.big_runs)
    only = [c for c in args.only.split(",") if c] or list(CASES)
    unknown = sorted(set(only) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    rows = run_cases(settings, only, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(render_markdown(rows, settings))
    if args.json is not None:
        args.json.write_text(json.dumps({"settings": settings.describe(), "rows": rows},
                                        indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
