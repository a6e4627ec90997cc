"""`drydock init DIR`: a skeleton that validates and plans as it is, a schema beside it
that every file names in its modeline and passes, a .gitignore and a README; a folder that
already holds a spec is refused with nothing changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from engine.commands.init import MODELINE, SCHEMA_FILE
from engine.render.schemas import spec_schema


def _drydock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=120)


def test_init_writes_a_skeleton_that_validates_and_plans_empty(tmp_path: Path) -> None:
    done = _drydock("init", "specs/prod", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    env = tmp_path / "specs" / "prod"
    assert sorted(p.name for p in env.iterdir()) == sorted(
        [".gitignore", "README.md", "data.yaml", SCHEMA_FILE, "environment.yaml",
         "servers.yaml", "templates"])
    assert "environment: prod\n" in (env / "environment.yaml").read_text()
    assert ".drydock/" in (env / ".gitignore").read_text().splitlines()
    assert "# prod" in (env / "README.md").read_text()
    assert _drydock("validate", "specs/prod", cwd=tmp_path).returncode == 0
    plan = _drydock("plan", "specs/prod", "--detailed-exitcode", cwd=tmp_path)
    assert plan.returncode == 0 and "No changes" in plan.stdout


def test_each_file_names_the_schema_beside_it_and_passes_it(tmp_path: Path) -> None:
    assert _drydock("init", "prod", cwd=tmp_path).returncode == 0
    env = tmp_path / "prod"
    assert json.loads((env / SCHEMA_FILE).read_text()) == spec_schema()
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker is not None
    for spec_file in sorted(env.glob("*.yaml")):
        assert spec_file.read_text().startswith(MODELINE), spec_file.name
        done = subprocess.run([checker, "--schemafile", str(env / SCHEMA_FILE),
                               str(spec_file)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout


def test_a_folder_holding_a_spec_is_refused_and_left_alone(tmp_path: Path) -> None:
    env = tmp_path / "prod"
    env.mkdir()
    (env / "servers.yaml").write_text("servers: {}\n")
    done = _drydock("init", "prod", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "servers.yaml" in done.stderr and "nothing was changed" in done.stderr
    assert [p.name for p in env.iterdir()] == ["servers.yaml"]


def test_an_empty_folder_is_used_and_a_bad_name_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert _drydock("init", "empty", "--name", "stage", cwd=tmp_path).returncode == 0
    assert "environment: stage\n" in (tmp_path / "empty" / "environment.yaml").read_text()
    bad = _drydock("init", "other", "--name", "-x y", cwd=tmp_path)
    assert bad.returncode == 1 and "--name" in bad.stderr
    assert not (tmp_path / "other").exists()
