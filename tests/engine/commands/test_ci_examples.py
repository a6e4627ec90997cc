"""The CI examples in docs/ci are valid YAML, run the documented commands, and their
embedded scripts at least parse (bash -n, Python compile, node --check when node exists)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.render.drift import drift_marker
from engine.render.markdown import plan_marker

CI = Path(__file__).resolve().parents[3] / "docs" / "ci"
GITHUB = sorted((CI / "github").glob("*.yml"))
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
HEREDOC = re.compile(r"python3 - <<'PY'\n(.*?)\nPY", re.S)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def _runs(workflow: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in _steps(workflow))


def test_the_three_github_workflows_exist_and_load() -> None:
    assert [p.name for p in GITHUB] == ["drydock-apply.yml", "drydock-drift.yml",
                                        "drydock-plan.yml"]
    for path in GITHUB:
        data = _load(path)
        # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
        assert True in data or "on" in data
        assert data["jobs"], path


def test_plan_workflow_plans_against_the_base_and_uploads_by_head_sha() -> None:
    plan = _load(CI / "github" / "drydock-plan.yml")
    assert plan[True]["pull_request"]["paths"] == ["specs/**"]
    steps = _steps(plan)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = _runs(plan)
    assert 'drydock plan "specs/$ENV_NAME" --base "$BASE_REF" -o "$OUT/plan.json"' in runs
    assert "--format markdown" in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["name"] == (
        "drydock-plan-${{ matrix.environment }}-${{ github.event.pull_request.head.sha }}")
    script = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    marker = plan_marker("${process.env.ENV_NAME}")
    assert f"const marker = `{marker}`;" in script["with"]["script"]
    assert "updateComment" in script["with"]["script"]


def test_apply_workflow_applies_the_artifact_of_the_merged_head() -> None:
    apply = _load(CI / "github" / "drydock-apply.yml")
    assert apply[True]["pull_request"]["types"] == ["closed"]
    job = apply["jobs"]["apply"]
    assert job["if"] == "github.event.pull_request.merged == true"
    assert job["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    runs = _runs(apply)
    assert '--name "drydock-plan-$ENV_NAME-$HEAD_SHA"' in runs
    assert 'drydock apply "$PLAN_DIR/plan.json" --env "specs/$ENV_NAME"' in runs
    assert "--auto-approve" not in runs  # a saved plan needs no approval and is never re-made
    assert job["concurrency"]["cancel-in-progress"] is False


def test_drift_workflow_is_nightly_and_writes_metrics() -> None:
    drift = _load(CI / "github" / "drydock-drift.yml")
    assert drift[True]["schedule"][0]["cron"]
    runs = _runs(drift)
    assert "--metrics-file" in runs and "--format markdown" in runs
    script = next(s for s in _steps(drift)
                  if s.get("uses", "").startswith("actions/github-script"))["with"]["script"]
    assert f"const marker = `{drift_marker('${env}')}`;" in script
    assert "state: 'closed'" in script


def test_gitlab_pipeline_has_the_same_three_jobs() -> None:
    data = _load(GITLAB)
    assert data["stages"] == ["plan", "apply", "drift"]
    plan, apply, drift = data["drydock:plan"], data["drydock:apply"], data["drydock:drift"]
    assert plan["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert "plan.json" in plan["artifacts"]["paths"]
    assert any("--base" in line for line in plan["script"])
    assert 'drydock apply plan.json --env "specs/$DRYDOCK_ENV"' in apply["script"]
    assert apply["resource_group"] == "drydock-$DRYDOCK_ENV"
    assert drift["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "schedule"'
    assert "--metrics-file" in drift["script"][0]
    text = GITLAB.read_text(encoding="utf-8")
    assert 'f"<!-- drydock-plan:{os.environ[\'DRYDOCK_ENV\']} -->"' in text
    assert 'f"<!-- drydock-drift:{env} -->"' in text


def _shell_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in GITHUB:
        for step in _steps(_load(path)):
            if "run" in step:
                blocks.append((f"{path.name}: {step.get('name', '?')}", step["run"]))
    data = _load(GITLAB)
    for name, job in data.items():
        if isinstance(job, dict) and "script" in job:
            blocks.append((f".gitlab-ci.yml: {name}", "\n".join(job["script"])))
    return blocks


def test_shell_blocks_parse_and_use_no_inline_expressions() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for where, script in _shell_blocks():
        assert "${{" not in script, f"{where}: pass expressions through env, not inline"
        done = subprocess.run([bash, "-n"], input=script, text=True, capture_output=True,
                              check=False)
        assert done.returncode == 0, f"{where}: {done.stderr}"


def test_embedded_python_scripts_compile() -> None:
    scripts = HEREDOC.findall("\n".join(script for _, script in _shell_blocks()))
    assert len(scripts) == 3
    for source in scripts:
        compile(source, "<.gitlab-ci.yml>", "exec")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_github_scripts_are_valid_javascript(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    for path in GITHUB:
        for i, step in enumerate(_steps(_load(path))):
            if not step.get("uses", "").startswith("actions/github-script"):
                continue
            wrapped = tmp_path / f"{path.stem}-{i}.js"
            wrapped.write_text("(async () => {\n" + step["with"]["script"] + "\n})();\n",
                               encoding="utf-8")
            done = subprocess.run([node, "--check", str(wrapped)], capture_output=True,
                                  text=True, check=False)
            assert done.returncode == 0, f"{path.name}: {done.stderr}"


BIN = Path(sys.executable).parent
INSTALL_ID = "install-drydock"


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found is not None, f"{name} is a test dependency (pip install -e '.[dev]')"
    return found


def test_github_workflows_pass_actionlint() -> None:
    done = subprocess.run([_tool("actionlint"), "-config-file", str(CI / "github" /
                                                                     "actionlint.yaml"),
                           *map(str, GITHUB)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_pipeline_passes_gitlab_ci_schema() -> None:
    done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci",
                           str(GITLAB)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def install_script(workflow: Path) -> tuple[str, dict[str, str]]:
    """The install step of a GitHub workflow and the workflow's DRYDOCK_* settings."""
    data = _load(workflow)
    step = next(s for s in _steps(data) if s.get("id") == INSTALL_ID)
    return step["run"], {k: v for k, v in data["env"].items() if k.startswith("DRYDOCK_")}


def test_every_example_installs_the_release_wheel_by_its_hash() -> None:
    from engine import __version__

    wheel = f"drydock_estate-{__version__}-py3-none-any.whl"
    scripts = set()
    for path in GITHUB:
        script, settings = install_script(path)
        assert settings["DRYDOCK_WHEEL"] == wheel, path.name
        assert settings["DRYDOCK_RELEASE"].endswith(f"/v{__version__}"), path.name
        scripts.add(script)
    gitlab = _load(GITLAB)
    assert gitlab["variables"]["DRYDOCK_WHEEL"] == wheel
    scripts.add(gitlab["default"]["before_script"][0])
    assert len(scripts) == 1, "the four examples install drydock the same way"
    script = scripts.pop()
    assert "--require-hashes --no-deps" in script
    assert "--hash=sha256:" in script
    for line in script.splitlines():  # never a bare name an index could answer with another
        assert not re.search(r"pip install [\"']?drydock(==|\s|$)", line), line
