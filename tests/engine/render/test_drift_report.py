"""The drift report end to end: real world, real CLI, JSON validated against the published
schema, ignore rules, and the report's own rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.render.drift import (
    BackupFreshness,
    DriftReport,
    DrillStatus,
    OverdueBackup,
    drift_report_schema,
    render_drift_markdown,
    render_findings_text,
)
from tests.engine.gitspecs import run_drydock, seed_sqlite, write_spec

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "docs" / "drift-report.schema.json"
CONFIG = "repository/conf/deployment.toml"


def _schema_text() -> str:
    return json.dumps(drift_report_schema(), indent=2) + "\n"


def _validate(data: Any) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def _spec(**extra: Any) -> dict[str, Any]:
    server: dict[str, Any] = {
        "host": "node-a", "product": "wso2am-4.2.0", "home": "opt/gw-1",
        "patches": ["WSO2-CARBON-PATCH-4.9.0-0001"],
        "config": {CONFIG: {"content": "[server]\noffset = 0\n"}},
    }
    server.update(extra.pop("server", {}))
    data = {
        "environment": "shop",
        "vars": {"world": ".drydock/world"},
        "sites": {"primary": {}},
        "hosts": {"node-a": {"site": "primary", "root": "{{ world }}/primary"}},
        "products": {"wso2am-4.2.0": {"pack": "{{ world }}/packs/wso2am-4.2.0.zip",
                                      "updates": "{{ world }}/updates",
                                      "patches": "{{ world }}/patches"}},
        "servers": {"gw-1": server},
        "databases": {"app_db": {"engine": "sqlite", "path": "{{ world }}/app.db"}},
    }
    data.update(extra)
    return data


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    """A real product home and SQLite database, applied once: recorded == observed."""
    from testkit.builder import build_world, install_home

    spec = tmp_path / "shop"
    write_spec(spec, _spec())
    world = build_world(spec / ".drydock" / "world")
    install_home(world.pack, spec / ".drydock" / "world" / "primary" / "opt" / "gw-1")
    seed_sqlite(spec, "app")
    done = run_drydock(["apply", str(spec), "--auto-approve"], tmp_path)
    assert done.returncode == 0, done.stderr
    return spec


def _hand_edit(spec: Path) -> Path:
    home = spec / ".drydock" / "world" / "primary" / "opt" / "gw-1"
    with (home / CONFIG).open("a", encoding="utf-8") as f:
        f.write("offset = 9\n")
    extra = home / "repository" / "components" / "patches" / "patch0009"
    extra.mkdir(parents=True)
    (extra / "hotfix.jar").write_bytes(b"PK")
    return home


def _drift_json(spec: Path) -> tuple[int, dict[str, Any]]:
    done = run_drydock(["drift", str(spec), "--format", "json"], spec.parent)
    assert done.returncode in (0, 2), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_schema_file_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == _schema_text(), (
        "docs/drift-report.schema.json is stale; regenerate it with "
        "'drydock drift --schema > docs/drift-report.schema.json'")


def test_cli_prints_the_same_schema(tmp_path: Path) -> None:
    done = run_drydock(["drift", "--schema"], tmp_path)
    assert done.returncode == 0
    assert done.stdout == _schema_text()


def test_no_drift_exits_0_and_validates(applied: Path) -> None:
    code, report = _drift_json(applied)
    assert code == 0
    assert report["found"] is False and report["resources"] == []
    assert report["environment"] == "shop"
    assert report["time"] == "2026-03-01T10:00:00Z"
    _validate(report)


def test_hand_edits_are_reported_with_attribute_diffs_and_validate(applied: Path) -> None:
    _hand_edit(applied)
    (applied / ".drydock" / "world" / "app.db").unlink()
    code, report = _drift_json(applied)
    assert code == 2
    _validate(report)
    assert report["found"] is True
    by_address = {r["address"]: r for r in report["resources"]}
    assert set(by_address) == {"server.gw-1", "database.app_db"}
    assert by_address["database.app_db"]["reason"] == "recorded but gone from the world"
    attrs = {a["name"]: a for a in by_address["server.gw-1"]["attributes"]}
    assert attrs["patches"]["recorded"] == ["patch0001"]
    assert attrs["patches"]["observed"] == ["patch0001", "patch0009"]
    assert attrs[f"config:{CONFIG}"]["recorded"] != attrs[f"config:{CONFIG}"]["observed"]
    assert "+offset = 9" in by_address["server.gw-1"]["diffs"][CONFIG]


def test_environment_ignore_rule_silences_only_the_named_attributes(applied: Path) -> None:
    _hand_edit(applied)
    write_spec(applied, _spec(ignore=[{"address": "server.gw-*", "attributes": ["config:*"]}]))
    code, report = _drift_json(applied)
    assert code == 2
    _validate(report)
    (server,) = report["resources"]
    assert [a["name"] for a in server["attributes"]] == ["patches"]
    assert server["diffs"] == {}


def test_ignoring_every_drifted_attribute_exits_0(applied: Path) -> None:
    _hand_edit(applied)
    write_spec(applied, _spec(ignore=[{"attributes": ["config:*", "patches"]}]))
    code, report = _drift_json(applied)
    assert (code, report["found"], report["resources"]) == (0, False, [])


def test_server_ignore_list_applies_to_that_server(applied: Path) -> None:
    _hand_edit(applied)
    write_spec(applied, _spec(server={"ignore": ["patches"]}))
    code, report = _drift_json(applied)
    assert code == 2
    (server,) = report["resources"]
    assert [a["name"] for a in server["attributes"]] == [f"config:{CONFIG}"]


def test_out_file_holds_the_same_report(applied: Path) -> None:
    _hand_edit(applied)
    saved = applied.parent / "reports" / "drift.json"
    done = run_drydock(["drift", str(applied), "--format", "markdown", "-o", str(saved)],
                       applied.parent)
    assert done.returncode == 2
    assert done.stdout.startswith("<!-- drydock-drift:shop -->\n")
    report = json.loads(saved.read_text(encoding="utf-8"))
    _validate(report)
    assert [r["address"] for r in report["resources"]] == ["server.gw-1"]


def _full_report() -> DriftReport:
    when = datetime(2026, 3, 1, 10, tzinfo=UTC)
    return DriftReport(
        environment="shop", time=when,
        overdue_backups=[OverdueBackup(policy="apim-db", repository="primary-vault",
                                       age_seconds=200_000.0, every_seconds=86_400.0)],
        backups=[BackupFreshness(policy="apim-db", repository="primary-vault",
                                 newest_age_seconds=200_000.0, every_seconds=86_400.0,
                                 overdue=True),
                 BackupFreshness(policy="apim-db", repository="dr-vault",
                                 newest_age_seconds=None, every_seconds=86_400.0, overdue=True),
                 BackupFreshness(policy="gw-1", repository="primary-vault",
                                 newest_age_seconds=60.0, every_seconds=86_400.0,
                                 overdue=False)],
        drills=[DrillStatus(drill="db-restore", status="failed", last_run=when, last_ok=False,
                            message="count(*) was 0"),
                DrillStatus(drill="files", status="ok", last_run=when, last_ok=True)],
    )


def test_backup_and_drill_findings_validate_and_render() -> None:
    report = _full_report()
    _validate(report.model_dump(mode="json"))
    assert report.found is True
    text = render_findings_text(report)
    assert "backup apim-db in primary-vault is overdue (newest is 2.3d old, every 24h)" in text
    assert "backup apim-db in dr-vault is overdue (no snapshot yet, every 24h)" in text
    assert "drill db-restore: failed (count(*) was 0)" in text
    assert "drill files" not in text
    md = render_drift_markdown(report)
    assert md.startswith("<!-- drydock-drift:shop -->\n### drydock drift: `shop`")
    assert "- drill db-restore: failed (count(*) was 0)" in md


def test_found_ignores_healthy_backups_and_drills() -> None:
    report = _full_report().model_copy(update={
        "overdue_backups": [], "backups": [_full_report().backups[2]],
        "drills": [_full_report().drills[1]]})
    assert report.found is False
    assert render_findings_text(report) == ""
    assert "No drift." in render_drift_markdown(report)


def test_unknown_fields_are_refused_by_the_schema() -> None:
    data = _full_report().model_dump(mode="json")
    data["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        _validate(data)
