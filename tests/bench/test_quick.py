"""The benchmark harness works end to end on its smallest cases (figures not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow(37)
@pytest.mark.xdist_group("bench")
def test_quick_mode_prints_one_table_with_every_case_it_ran(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only",
         "start,noop,edit,converge,actions,retention,graph", "--root", str(tmp_path / "w"),
         "--json", str(out)],
        capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| case | N | drydock | peer | ratio | floor ratio | peak RSS |"
    rows = json.loads(out.read_text())["rows"]
    cases = {r["case"] for r in rows}
    assert {"start: --version", "no-op plan, warm", "no-op plan, cold",
            "plan after one hand edit", "converge", "trivial actions (apply path)",
            "retention, one series", "graph + render (x 8 actions)"} <= cases
    assert len(table) == len(rows) + 1
    for r in rows:
        assert r["drydock_s"] > 0 and r["rss_mb"] > 0
    floors = {r["floor"] for r in rows if r["floor_s"]}
    assert {"python -c pass", "stat", "sha256", "sort the times"} <= floors
