"""`drydock validate`: several folders or files at once (as pre-commit passes them), JSON,
and GitHub Actions annotations that point at the file, line and column of each problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.commands.validate import Problem, github_annotation
from tests.helpers.world import make_env, server_yaml

BAD_SERVER = ("servers:\n  gw-9:\n    host: nowhere\n    product: wso2am-4.2.0\n"
              "    home: opt/gw-9\n")


def _drydock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=120)


def test_github_format_annotates_each_problem_at_its_position(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    (env.spec / "broken.yaml").write_text(BAD_SERVER)
    done = _drydock("validate", "spec", "--format", "github", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines == ["::error file=spec/broken.yaml,line=3,col=11,title=drydock validate::"
                     "unknown host 'nowhere' (declared: node-a)"]


def test_github_format_prints_nothing_on_stdout_when_valid(tmp_path: Path) -> None:
    make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    done = _drydock("validate", "spec", "--format", "github", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == ""
    assert "valid" in done.stderr


def test_annotation_escapes_what_would_end_a_property_or_the_message() -> None:
    line = github_annotation(Problem("a,b:c.yaml", 2, 3, "50% bad\nsecond line"))
    assert line == ("::error file=a%2Cb%3Ac.yaml,line=2,col=3,title=drydock validate::"
                    "50%25 bad%0Asecond line")


def test_files_stand_for_their_folder_and_each_folder_is_checked_once(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    other = make_env(tmp_path / "other", {"gw-2": server_yaml("gw-2")}, install=False)
    (other.spec / "broken.yaml").write_text(BAD_SERVER)
    done = _drydock("validate", str(env.spec / "env.yaml"), str(env.spec / "servers.yaml"),
                    str(other.spec / "servers.yaml"), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["valid"] is False
    assert [(Path(p["file"]).name, p["line"]) for p in report["problems"]] == [
        ("broken.yaml", 3)]
    text = _drydock("validate", str(env.spec / "env.yaml"), str(env.spec / "servers.yaml"),
                    cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.count("valid.") == 1 and text.stderr == ""


def test_every_format_prints_its_results_on_stdout_and_advice_on_stderr(tmp_path: Path) -> None:
    """Problem lines, annotations and JSON are results (stdout, exit 1); only the advice
    of the text format goes to stderr, so `validate > report` captures the whole report."""
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, install=False)
    (env.spec / "broken.yaml").write_text(BAD_SERVER)
    where = "spec/broken.yaml:3:11: unknown host 'nowhere' (declared: node-a)"
    text = _drydock("validate", "spec", cwd=tmp_path)
    assert (text.returncode, text.stdout) == (1, where + "\n")
    assert text.stderr == ("error: 1 problem(s) in spec; fix them and run 'drydock validate' "
                           "again\n")
    github = _drydock("validate", "spec", "--format", "github", cwd=tmp_path)
    assert github.returncode == 1 and github.stderr == ""
    assert github.stdout.startswith("::error file=spec/broken.yaml,line=3,col=11,")
    as_json = _drydock("validate", "spec", "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 1 and as_json.stderr == ""
    assert json.loads(as_json.stdout)["problems"][0]["line"] == 3
