"""`backups forget --dry-run`: options, snapshots files, output formats and every refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from engine.commands.forget import (
    ForgetError,
    ForgetRequest,
    forget_command,
    load_snapshot_file,
    run_forget,
)
from engine.retention import RetentionSnapshot

NOW = "2024-06-01T00:00:00Z"
SNAPSHOTS = [
    {"id": "s5", "time": "2024-05-05T04:00:00+05:30", "tags": ["db"]},  # 4 May 22:30Z
    {"id": "s4", "time": "2024-05-04T20:00:00Z", "tags": []},
    {"id": "s3", "time": "2024-05-04T10:00:00Z", "tags": ["db", "full"]},
    {"id": "s2", "time": "2024-05-02T10:00:00Z"},
    {"id": "s1", "time": "2024-05-01T10:00:00Z", "tags": None, "paths": ["/x"], "hostname": "h"},
]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(forget_command)
    return app


def _write(tmp_path: Path, data: object, name: str = "snaps.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _run(args: list[str], now: str = NOW):
    return CliRunner().invoke(_app(), args, env={"DRYDOCK_NOW": now, "COLUMNS": "200"})


def test_dry_run_prints_kept_and_removed_with_reasons(tmp_path: Path) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    result = _run(["--dry-run", "--snapshots", str(path), "--keep-last", "1", "--keep-daily", "3"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "keep: 3 snapshot(s)" in out and "remove: 2 snapshot(s)" in out
    assert "last snapshot, daily snapshot" in out
    assert "beyond last 1; daily bucket 2024-05-04 already kept by s4" in out
    assert "beyond last 1; beyond daily 3" in out
    assert "nothing was deleted" in result.stderr


def test_json_output_is_the_documented_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    result = _run(["--dry-run", "--snapshots", str(path), "--keep-last", "2", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"keep", "remove"}
    assert doc["keep"] == [
        {"id": "s5", "time": "2024-05-05T04:00:00+05:30", "reasons": ["last snapshot"]},
        {"id": "s4", "time": "2024-05-04T20:00:00Z", "reasons": ["last snapshot"]},
    ]
    assert [r["id"] for r in doc["remove"]] == ["s3", "s2", "s1"]
    assert all(set(r) == {"id", "time", "reason"} for r in doc["remove"])


def test_keep_tag_sets_and_negative_counts(tmp_path: Path) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    args = ["--dry-run", "--snapshots", str(path), "--format", "json"]
    doc = json.loads(_run([*args, "--keep-tag", "db, full", "--keep-tag", ""]).stdout)
    assert {k["id"]: k["reasons"] for k in doc["keep"]} == {
        "s4": ["has tags []"],
        "s3": ["has tags [db, full]"],
        "s2": ["has tags []"],
        "s1": ["has tags []"],
    }
    doc = json.loads(_run([*args, "--keep-monthly", "-1"]).stdout)
    assert [k["id"] for k in doc["keep"]] == ["s5", "s1"]


def test_drydock_now_sets_the_clock(tmp_path: Path) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    args = ["--dry-run", "--snapshots", str(path), "--keep-within", "12h", "--format", "json"]
    # With now before s5, the anchor is s4 and s5 counts as dated in the future.
    doc = json.loads(_run(args, now="2024-05-04T21:00:00Z").stdout)
    assert [k["id"] for k in doc["keep"]] == ["s5", "s4", "s3"]
    doc = json.loads(_run(args).stdout)
    assert [k["id"] for k in doc["keep"]] == ["s5", "s4"]
    bad = _run(args, now="yesterday")
    assert bad.exit_code == 1 and "DRYDOCK_NOW" in bad.stderr


def test_timezone_option_moves_buckets(tmp_path: Path) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    args = ["--dry-run", "--snapshots", str(path), "--keep-daily", "-1", "--format", "json"]
    plain = json.loads(_run(args).stdout)
    # In UTC, s5 (4 May 22:30Z) shares 4 May with s4 and s3.
    utc = json.loads(_run([*args, "--timezone", "UTC"]).stdout)
    assert [k["id"] for k in plain["keep"]] == ["s5", "s4", "s2", "s1"]
    assert [k["id"] for k in utc["keep"]] == ["s5", "s2", "s1"]
    bad = _run([*args, "--timezone", "Mars/Olympus"])
    assert bad.exit_code == 1 and "--timezone: unknown timezone 'Mars/Olympus'" in bad.stderr


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--keep-daily", "1"], "deleting snapshots needs a SERIES"),
        (["--dry-run", "--keep-daily", "-2"], "--keep-daily: -2 is not a keep count"),
        (["--dry-run", "--keep-within-daily", "3w"], "--keep-within-daily: retention duration"),
        (["--dry-run"], "no keep rule given"),
        (["--dry-run", "--keep-last", "1", "series-a"], "not both"),
    ],
)
def test_refusals_exit_1_with_one_line(tmp_path: Path, args: list[str], complaint: str) -> None:
    path = _write(tmp_path, SNAPSHOTS)
    result = _run(["--snapshots", str(path), *args])
    assert result.exit_code == 1
    assert complaint in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_series_needs_an_environment(tmp_path: Path) -> None:
    result = _run(["apim-db", "--env", str(tmp_path), "--dry-run", "--keep-last", "1"])
    assert result.exit_code == 1
    assert "no *.yaml files here" in result.stderr


def test_nothing_to_evaluate_is_refused() -> None:
    result = _run(["--dry-run", "--keep-last", "1"])
    assert result.exit_code == 1 and "give a SERIES or --snapshots FILE" in result.stderr


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("[{", "snaps.json:1:3: not valid JSON"),
        ('{"id": "a"}', "expected a JSON list of snapshots"),
        ('[{"id": "a", "time": "2024-05-01T00:00:00Z"}, 7]', "entry 1: expected an object"),
        ('[{"time": "2024-05-01T00:00:00Z"}]', "entry 0: 'id' must be a non-empty string"),
        ('[{"id": "a", "time": "2024-05-01T00:00:00"}]', "entry 0 (a): time '2024-05-01T00:00:00'"),
        ('[{"id": "a", "time": "May 1st"}]', "is not RFC 3339 with a UTC offset"),
        ('[{"id": "a", "time": 1714521600}]', "'time' must be an RFC 3339 string"),
        ('[{"id": "a", "time": "2024-05-01T00:00:00Z", "tags": "db"}]', "'tags' must be a list"),
        ('[{"id": "a", "time": "2024-05-01T00:00:00Z", "pinned": "yes"}]', "'pinned' must be"),
        (
            '[{"id": "a", "time": "2024-05-01T00:00:00Z"},'
            ' {"id": "a", "time": "2024-05-02T00:00Z"}]',
            "entry 1: id 'a' is already used by entry 0",
        ),
    ],
)
def test_bad_snapshot_files_name_the_file_and_entry(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ForgetError) as caught:
        load_snapshot_file(path)
    assert str(path) in str(caught.value)
    assert complaint in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = _run(["--dry-run", "--keep-last", "1", "--snapshots", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.json'}: cannot read the snapshots file" in result.stderr


def test_snapshot_file_flags_reach_retention(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"id": "new", "time": "2024-05-03t00:00:00z"},
            {"id": "pin", "time": "2024-05-02T00:00:00Z", "pinned": True},
            {"id": "ok", "time": "2024-05-01T00:00:00Z", "verified": True},
        ],
    )
    request = ForgetRequest(snapshots_file=path, dry_run=True, keep_last=1)
    result = run_forget(request, now=datetime(2024, 6, 1, tzinfo=UTC))
    assert {k.id: k.reasons for k in result.keep} == {
        "new": ["last snapshot"],
        "pin": ["pinned"],
    }
    assert load_snapshot_file(path)[2].verified is True


def test_run_forget_uses_the_series_loader_when_given() -> None:
    asked: list[str] = []

    def load(series: str) -> list[RetentionSnapshot]:
        asked.append(series)
        return [
            RetentionSnapshot(id="b", time=datetime(2024, 5, 2, tzinfo=UTC)),
            RetentionSnapshot(id="a", time=datetime(2024, 5, 1, tzinfo=UTC)),
        ]

    now = datetime(2024, 6, 1, tzinfo=UTC)
    request = ForgetRequest(series="apim-db", dry_run=True, keep_last=1)
    result = run_forget(request, now=now, load_series=load)
    assert asked == ["apim-db"]
    assert result.kept_ids == ["b"] and result.removed_ids == ["a"]
    with pytest.raises(ForgetError, match="without --dry-run deletes"):
        run_forget(request.model_copy(update={"dry_run": False}), now=now, load_series=load)
