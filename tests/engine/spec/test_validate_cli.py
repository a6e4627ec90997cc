"""`drydock validate` on real files: all errors at once as FILE:LINE:COL, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ENV = """\
environment: t
sites: {primary: {}}
hosts:
  node-a: {site: primary, root: /srv}
products:
  p-1.0: {pack: /p.zip}
"""


def run(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "validate", str(spec)],
                          capture_output=True, text=True, timeout=60)


def test_three_mistakes_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENV.replace("site: primary", "site: secondary"))
    (tmp_path / "b.yaml").write_text(
        "servers:\n  gw-1:\n    host: node-a\n    product: p-9.9\n    home: x\n    bogus: 1\n")
    proc = run(tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()  # problems are validate's results: stdout
    assert len(lines) == 3, proc.stdout
    for line in lines:
        file, line_no, col, _msg = line.split(":", 3)
        assert file.endswith(("a.yaml", "b.yaml")) and line_no.isdigit() and col.isdigit()
    assert proc.stderr.startswith("error: 3 problem(s)") and proc.stderr.count("\n") == 1


def test_valid_spec_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENV)
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_not_a_folder(tmp_path: Path) -> None:
    proc = run(tmp_path / "missing")
    assert proc.returncode == 1
    assert "not a directory" in proc.stdout


def test_json_format_lists_every_problem(tmp_path: Path) -> None:
    import json

    (tmp_path / "a.yaml").write_text(ENV.replace("site: primary", "site: secondary"))
    (tmp_path / "b.yaml").write_text("servers:\n  gw-1: {host: node-a, product: p-9.9, home: x}\n")
    proc = subprocess.run([sys.executable, "-m", "engine", "validate", str(tmp_path), "--format",
                           "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["valid"] is False
    assert [(p["file"].rsplit("/", 1)[-1], p["line"]) for p in report["problems"]] == [
        ("a.yaml", 4), ("b.yaml", 2)]


def test_missing_template_points_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENV)
    (tmp_path / "b.yaml").write_text(
        "servers:\n  gw-1:\n    host: node-a\n    product: p-1.0\n    home: x\n"
        "    config:\n      repository/conf/deployment.toml:\n"
        "        template: templates/missing.j2\n")
    proc = run(tmp_path)
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.endswith("b.yaml:8:19: template templates/missing.j2 cannot be read (No such "
                          "file or directory); paths are relative to the spec folder")


def test_a_drill_folder_on_an_undeclared_host_is_refused_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ENV + (
        "repositories: {v: {type: local, site: primary, path: /v}}\n"
        "backups: {b: {source: {root: /data}, every: 24h, repository: v}}\n"
        "drills:\n  d:\n    backup: b\n    every: 7d\n"
        "    into: {directory: scratch, host: node-z}\n"))
    proc = run(tmp_path)
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"{tmp_path / 'a.yaml'}:") and "node-z" in first
