"""Cleanup of interrupted writes is planned and listed, never a side effect: another
tool's folder beside the snapshots survives every backup, drydock's own leftover is
named in the plan and removed only by applying it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.world import make_env, seed_apis

pytestmark = pytest.mark.integration

DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 3},
            repository: primary-vault}
"""
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def at(days: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(days=days)).isoformat()}


def aged(path: Path, when: datetime) -> None:
    for item in [*path.rglob("*"), path]:
        os.utime(item, (when.timestamp(), when.timestamp()), follow_symlinks=False)


def test_foreign_folders_survive_and_leftovers_are_planned(tmp_path: Path):
    env = make_env(tmp_path, {}, extra_yaml=DATA)
    seed_apis(env.world / "primary" / "apim.db")
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    series = env.world / "primary" / "backups" / "apim-db"
    theirs = series / "20251201T000000Z-archive"
    theirs.mkdir()
    (theirs / "tape.tar").write_bytes(b"another tool's archive")
    ours = series / "20251231T000000Z-dead01"
    ours.mkdir()
    (ours / "database.sqlite.zst").write_bytes(b"half a part")
    (ours / ".drydock-writing").write_text(json.dumps({
        "format": 1, "repository": "primary-vault", "series": "apim-db",
        "id": ours.name, "started": "2025-12-31T00:00:00+00:00", "host": "h", "pid": 1}))
    long_ago = START - timedelta(days=1)  # older than the grace on the plan's clock
    aged(theirs, long_ago)
    aged(ours, long_ago)
    plan = env.run("plan", ".", "--format", "json", env=at(1), check=0)
    actions = json.loads(plan.stdout)["actions"]
    cleanups = [a for a in actions if a["type"] == "backup.cleanup"]
    assert [c["params"]["leftovers"] for c in cleanups] == [[ours.name]]
    assert "20251201T000000Z-archive" not in plan.stdout
    text = env.run("plan", ".", env=at(1), check=0).stdout
    assert f"left by interrupted writes: {ours.name}" in text
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    assert not ours.exists()
    assert (theirs / "tape.tar").read_bytes() == b"another tool's archive"
    for day in (2, 3, 4, 5):  # many backups and prunes later
        env.run("apply", ".", "--auto-approve", env=at(day), check=0)
    assert (theirs / "tape.tar").read_bytes() == b"another tool's archive"
    assert "backup.cleanup" not in env.run("plan", ".", env=at(5), check=0).stdout
