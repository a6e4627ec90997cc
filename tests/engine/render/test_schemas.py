"""The published JSON Schemas: 2020-12 with `$schema` and `$id`; a spec file validates on
its own (check-jsonschema, as an editor or CI would run it); durations in the spec's
short form; `{{ }}` accepted where a value is templated; plan and state documents that
drydock wrote validate against theirs; docs/schemas holds exactly what drydock prints."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from engine.render.schemas import DIALECT, schema_of, spec_schema
from tests.helpers.world import make_env, server_yaml

ROOT = Path(__file__).resolve().parents[3]
DEMO = sorted((ROOT / "specs" / "demo").glob("*.yaml"))
CHECK_JSONSCHEMA = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))


def _errors(doc: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(spec_schema())
    return [e.message for e in validator.iter_errors(doc)]


def _check(schema: dict, *documents: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHECK_JSONSCHEMA is not None, "check-jsonschema is a test dependency"
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema))
    return subprocess.run([CHECK_JSONSCHEMA, "--schemafile", str(schema_file),
                           *map(str, documents)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("kind", ["spec", "plan", "state"])
def test_every_schema_is_2020_12_with_an_id_and_valid_itself(kind: str) -> None:
    schema = schema_of(kind)
    assert schema["$schema"] == DIALECT
    assert schema["$id"] == f"urn:drydock:schema:{kind}:1"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", DEMO, ids=[p.name for p in DEMO])
def test_each_demo_file_validates_on_its_own(path: Path, tmp_path: Path) -> None:
    done = _check(spec_schema(), path, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_fragment_needs_no_top_level_key() -> None:
    assert "required" not in spec_schema()
    assert _errors({"hosts": {"n": {"site": "primary", "transport": "local", "root": "/r"}}}) == []
    assert _errors({}) == []


def test_durations_are_the_spec_short_form() -> None:
    def drill(rto: object) -> dict:
        return {"drills": {"d": {"backup": "b", "every": "30d", "rto": rto,
                                 "into": {"directory": "scratch"}}}}

    for good in ("15s", "6h", "1d", "1h30m", "2w", 90, "{{ rto }}"):
        assert _errors(drill(good)) == [], good
    for bad in ("PT15S", "15x", "fifteen", "", "1.5h"):
        assert _errors(drill(bad)), bad


def test_templated_strings_pass_where_a_number_or_choice_is_expected() -> None:
    def server(**extra: object) -> dict:
        return {"servers": {"gw": {"host": "n", "product": "p", "home": "h", **extra}}}

    assert _errors(server(update_level="{{ level }}")) == []
    assert _errors(server(strategy="{{ how }}")) == []
    assert _errors(server(update_level=14)) == []
    assert _errors(server(update_level="fourteen"))
    assert _errors(server(strategy="sideways"))
    assert _errors(server(colour="red"))  # unknown keys stay errors


def test_a_bad_file_is_reported_by_check_jsonschema(tmp_path: Path) -> None:
    bad = tmp_path / "servers.yaml"
    bad.write_text("servers:\n  gw:\n    host: n\n    product: p\n    home: h\n"
                   "    service: {start: a, stop: b, health: {http: 'http://x', timeout: PT2M}}\n")
    done = _check(spec_schema(), bad, tmp_path=tmp_path)
    assert done.returncode == 1
    assert "PT2M" in done.stdout


def test_plan_and_state_documents_validate(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("plan", ".", "-o", "plan.json", check=0)
    assert _check(schema_of("plan"), env.spec / "plan.json", tmp_path=tmp_path).returncode == 0
    env.run("apply", "plan.json", "--env", ".", check=0)
    state = env.spec / "state" / "t.json"
    done = _check(schema_of("state"), state, tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**json.loads(state.read_text()), "serial": "one"}))
    assert _check(schema_of("state"), broken, tmp_path=tmp_path).returncode == 1


@pytest.mark.parametrize("kind", ["spec", "plan", "state"])
def test_docs_hold_the_published_schemas(kind: str) -> None:
    published = ROOT / "docs" / "schemas" / f"{kind}.schema.json"
    assert json.loads(published.read_text()) == schema_of(kind), (
        f"regenerate: drydock schema --kind {kind} > docs/schemas/{kind}.schema.json")


def test_the_schema_command_prints_each_kind(tmp_path: Path) -> None:
    env = make_env(tmp_path, {})
    for kind in ("spec", "plan", "state"):
        printed = json.loads(env.run("schema", "--kind", kind, check=0).stdout)
        assert printed["$id"] == f"urn:drydock:schema:{kind}:1"
    wrong = env.run("schema", "--kind", "drift", check=1)
    assert wrong.stderr.count("\n") == 1 and "spec, plan or state" in wrong.stderr

