"""Prometheus textfile metrics of drift runs, parsed back with a small exposition parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from engine.render.drift import (
    BackupFreshness,
    DriftedResource,
    DriftReport,
    DrillStatus,
    OverdueBackup,
)
from engine.render.metrics import escape_label, render_metrics
from tests.engine.gitspecs import db_only, run_drydock, seed_sqlite, write_spec

WHEN = datetime(2026, 3, 1, 10, tzinfo=UTC)
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')

Key = tuple[str, tuple[tuple[str, str], ...]]


def _unescape(value: str) -> str:
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def parse_exposition(text: str) -> tuple[dict[Key, float], dict[str, str]]:
    """Samples keyed by (name, sorted labels) and the declared TYPE of each family.

    Checks the rules node_exporter enforces: one TYPE per family, declared before its
    samples, every line well formed, the text newline-terminated.
    """
    assert text.endswith("\n")
    samples: dict[Key, float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"TYPE of {name} declared twice"
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        match = _SAMPLE.match(line)
        assert match, f"malformed sample line: {line!r}"
        name, raw_labels, value = match.groups()
        assert name in types, f"{name} sampled before its TYPE"
        labels = tuple(sorted((k, _unescape(v)) for k, v in _LABEL.findall(raw_labels or "")))
        key = (name, labels)
        assert key not in samples, f"duplicate sample {key}"
        samples[key] = float(value)
    return samples, types


def _report() -> DriftReport:
    return DriftReport(
        environment="prod", time=WHEN,
        resources=[DriftedResource(address="server.gw-1", kind="server", reason="x")],
        overdue_backups=[OverdueBackup(policy="apim-db", repository="dr-vault",
                                       age_seconds=None, every_seconds=86400.0)],
        backups=[BackupFreshness(policy="apim-db", repository="primary-vault",
                                 newest_age_seconds=3600.5, every_seconds=86400.0,
                                 overdue=False),
                 BackupFreshness(policy="apim-db", repository="dr-vault",
                                 newest_age_seconds=None, every_seconds=86400.0, overdue=True)],
        drills=[DrillStatus(drill="db-restore", status="ok", last_run=WHEN, last_ok=True),
                DrillStatus(drill="files", status="never-run")],
        pending_changes=3,
    )


def _key(name: str, **labels: str) -> Key:
    return name, tuple(sorted(labels.items()))


def test_every_family_round_trips() -> None:
    samples, types = parse_exposition(render_metrics(_report()))
    env = {"environment": "prod"}
    assert set(types.values()) == {"gauge"}
    assert samples[_key("drydock_drift_found", **env)] == 1
    assert samples[_key("drydock_drift_resources", **env)] == 1
    assert samples[_key("drydock_drift_pending_actions", **env)] == 3
    assert samples[_key("drydock_drift_run_timestamp_seconds", **env)] == WHEN.timestamp()
    primary = {**env, "policy": "apim-db", "repository": "primary-vault"}
    dr = {**env, "policy": "apim-db", "repository": "dr-vault"}
    assert samples[_key("drydock_backup_newest_timestamp_seconds", **primary)] == \
        WHEN.timestamp() - 3600.5  # a timestamp, not an age frozen in the file
    assert _key("drydock_backup_newest_timestamp_seconds", **dr) not in samples  # none yet
    assert not any(name.endswith("_age_seconds") for name, _labels in samples)
    assert samples[_key("drydock_backup_overdue", **primary)] == 0
    assert samples[_key("drydock_backup_overdue", **dr)] == 1
    drill = {**env, "drill": "db-restore"}
    assert samples[_key("drydock_drill_last_success", **drill)] == 1
    assert samples[_key("drydock_drill_last_run_timestamp_seconds", **drill)] == \
        WHEN.timestamp()
    assert samples[_key("drydock_drill_ok", **drill)] == 1
    never = {**env, "drill": "files"}
    assert samples[_key("drydock_drill_ok", **never)] == 0
    assert _key("drydock_drill_last_success", **never) not in samples
    assert _key("drydock_drill_last_run_timestamp_seconds", **never) not in samples


def test_families_without_samples_are_left_out() -> None:
    text = render_metrics(DriftReport(environment="prod", time=WHEN))
    samples, types = parse_exposition(text)
    assert set(types) == {"drydock_build_info", "drydock_drift_run_timestamp_seconds",
                          "drydock_drift_found", "drydock_drift_resources",
                          "drydock_drift_pending_actions"}
    assert samples[_key("drydock_drift_found", environment="prod")] == 0


def test_label_values_are_escaped() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    report = DriftReport(environment='we"ird\\env', time=WHEN)
    samples, _ = parse_exposition(render_metrics(report))
    assert _key("drydock_drift_found", environment='we"ird\\env') in samples


def test_output_is_deterministic_and_sorted() -> None:
    report = _report()
    shuffled = report.model_copy(update={"backups": list(reversed(report.backups)),
                                         "drills": list(reversed(report.drills))})
    assert render_metrics(report) == render_metrics(shuffled)


def test_drift_command_writes_the_metrics_file_atomically(tmp_path: Path) -> None:
    spec = tmp_path / "shop"
    write_spec(spec, db_only())
    seed_sqlite(spec, "app", "old")
    assert run_drydock(["apply", str(spec), "--auto-approve"], tmp_path).returncode == 0
    collector = tmp_path / "textfile"
    collector.mkdir()
    target = collector / "drydock_shop.prom"
    target.write_text("stale content from an earlier run\n", encoding="utf-8")

    clean = run_drydock(["drift", str(spec), "--metrics-file", str(target)], tmp_path)
    assert clean.returncode == 0, clean.stderr
    samples, _ = parse_exposition(target.read_text(encoding="utf-8"))
    env = {"environment": "shop"}
    assert samples[_key("drydock_drift_found", **env)] == 0
    assert samples[_key("drydock_drift_resources", **env)] == 0

    (spec / ".drydock" / "world" / "old.db").unlink()
    found = run_drydock(["drift", str(spec), "--metrics-file", str(target)], tmp_path)
    assert found.returncode == 2
    samples, _ = parse_exposition(target.read_text(encoding="utf-8"))
    assert samples[_key("drydock_drift_found", **env)] == 1
    assert samples[_key("drydock_drift_resources", **env)] == 1
    assert sorted(p.name for p in collector.iterdir()) == ["drydock_shop.prom"]
    drift_run = {**env, "command": "drift"}
    assert samples[_key("drydock_last_run_success", **drift_run)] == 1
    assert samples[_key("drydock_last_run_duration_seconds", **drift_run)] > 0
    apply_run = {**env, "command": "apply"}
    assert samples[_key("drydock_last_run_success", **apply_run)] == 1
    assert _key("drydock_last_run_timestamp_seconds", **apply_run) in samples
    build = [labels for name, labels in samples if name == "drydock_build_info"]
    assert build and dict(build[0])["plan_format"] == "1" and "version" in dict(build[0])


def test_last_runs_report_success_time_and_duration() -> None:
    from engine.render.metrics import CommandRun

    runs = [CommandRun(command="drift", finished=WHEN, success=True, duration_seconds=1.5),
            CommandRun(command="apply", finished=WHEN, success=False)]
    samples, _ = parse_exposition(render_metrics(DriftReport(environment="prod", time=WHEN),
                                                 runs))
    env = {"environment": "prod"}
    assert samples[_key("drydock_last_run_success", **env, command="apply")] == 0
    assert samples[_key("drydock_last_run_success", **env, command="drift")] == 1
    assert samples[_key("drydock_last_run_duration_seconds", **env, command="drift")] == 1.5
    assert _key("drydock_last_run_duration_seconds", **env, command="apply") not in samples
    assert samples[_key("drydock_last_run_timestamp_seconds", **env, command="apply")] == \
        WHEN.timestamp()
