"""`backups ls|diff|stats|check` on snapshots drydock's own backups took: a paths series
in two local repositories, and a real PostgreSQL database's dumps."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.world import Env, make_env
from tests.integration.test_backups_flow import at

pytestmark = pytest.mark.integration

PATHS = """\
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  files:
    source: {root: data, paths: [conf, logs]}
    every: 24h
    keep: {last: 5}
    repository: primary-vault
    copies: [dr-vault]
"""


def _ids(env: Env) -> list[str]:
    out = env.run("backups", "list", "--env", ".", "--format", "json", check=0).stdout
    return [s["id"] for s in json.loads(out)["snapshots"]]


@pytest.fixture
def files(tmp_path: Path) -> Env:
    env = make_env(tmp_path, {}, extra_yaml=PATHS)
    data = env.spec / "data"
    (data / "conf").mkdir(parents=True)
    (data / "logs").mkdir()
    (data / "conf" / "a.toml").write_text("a = 1\n")
    (data / "conf" / "same.txt").write_text("unchanged\n")
    (data / "logs" / "old.log").write_text("old\n")
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    (data / "conf" / "a.toml").write_text("a = 2\n")
    (data / "conf" / "new.txt").write_text("new\n")
    (data / "logs" / "old.log").unlink()
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    return env


def test_ls_lists_every_path_with_its_digest(files: Env) -> None:
    first, second = _ids(files)
    listing = json.loads(files.run("backups", "ls", first, "--env", ".", "--format", "json",
                                   check=0).stdout)
    entries = {e["path"]: e for e in listing["entries"]}
    assert entries["conf/a.toml"]["sha256"] == hashlib.sha256(b"a = 1\n").hexdigest()
    assert entries["conf"]["type"] == "dir" and "logs/old.log" in entries
    assert [p["kind"] for p in listing["parts"]] == ["tar"]
    text = files.run("backups", "ls", f"dr-vault:files/{second}", "--env", ".", check=0).stdout
    assert f"snapshot dr-vault:files/{second}" in text and "conf/new.txt" in text


def test_diff_shows_added_removed_and_modified(files: Env) -> None:
    first, second = _ids(files)
    found = json.loads(files.run("backups", "diff", first, second, "--env", ".", "--format",
                                 "json", check=0).stdout)
    changes = {(c["change"], c["path"]) for c in found["changes"]}
    assert changes == {("M", "conf/a.toml"), ("+", "conf/new.txt"), ("-", "logs/old.log")}
    assert (found["added"], found["removed"], found["modified"]) == (1, 1, 1)
    text = files.run("backups", "diff", first, second, "--env", ".", check=0).stdout
    assert "+    conf/new.txt" in text and "Files: 1 new, 1 removed, 1 changed" in text


def test_stats_counts_every_repository(files: Env) -> None:
    stats = json.loads(files.run("backups", "stats", "--env", ".", "--format", "json",
                                 check=0).stdout)
    rows = {(r["repository"], r["series"]): r for r in stats["series"]}
    assert rows[("primary-vault", "files")]["snapshots"] == 2
    assert rows[("dr-vault", "files")]["snapshots"] == 2
    assert stats["snapshots"] == 4 and stats["raw_bytes"] > 0 and stats["stored_bytes"] > 0
    one = json.loads(files.run("backups", "stats", "--env", ".", "--repository", "dr-vault",
                               "--format", "json", check=0).stdout)
    assert [r["repository"] for r in one["series"]] == ["dr-vault"]
    refused = files.run("backups", "stats", "--env", ".", "--format", "markdown", check=1)
    assert refused.stderr.strip() == "error: --format markdown: this command writes text or json"


def test_check_finds_damage_orphans_and_interrupted_writes(files: Env) -> None:
    healthy = json.loads(files.run("backups", "check", "--env", ".", "--read-data", "--format",
                                   "json", check=0).stdout)
    assert healthy["ok"] is True and {r["snapshots"] for r in healthy["repositories"]} == {2}
    first, second = _ids(files)
    dr = files.world / "dr" / "backups" / "files"
    part = next((dr / first).glob("*.zst"))
    raw = bytearray(part.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size: only reading the data finds it
    part.write_bytes(bytes(raw))
    quick = files.run("backups", "check", "--env", ".", "--repository", "dr-vault", check=0)
    assert "no errors" in quick.stdout
    deep = json.loads(files.run("backups", "check", "--env", ".", "--repository", "dr-vault",
                                "--read-data", "--format", "json", check=1).stdout)
    problems = {(p["kind"], p["where"]) for p in deep["repositories"][0]["problems"]}
    assert problems == {("part", f"files/{first}/{part.name}")}
    (dr / second / "stray.bin").write_bytes(b"x")
    (dr / "20260101T000000Z-000000").mkdir()
    (dr / "20260101T000000Z-000000" / ".drydock-writing").write_text("{}")
    primary_part = next((files.world / "primary" / "backups" / "files" / second).glob("*.zst"))
    primary_part.write_bytes(primary_part.read_bytes() + b"extra")
    text = files.run("backups", "check", "--env", ".", check=1).stdout
    assert f"orphan: files/{second}/stray.bin: not listed in the manifest" in text
    assert "unfinished: files/20260101T000000Z-000000" in text
    assert f"part: files/{second}/{primary_part.name}" in text and "the manifest says" in text


@pytest.fixture
def postgres_db() -> Iterator[str]:
    name = f"dd_inspect_{uuid.uuid4().hex[:8]}"
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
    subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                       capture_output=True)


def test_ls_and_diff_of_postgres_dumps(tmp_path: Path, postgres_db: str) -> None:
    spec = (f"databases:\n  app: {{engine: postgres, host: 127.0.0.1, port: 5432, user: "
            f"postgres, dbname: {postgres_db}}}\nrepositories:\n  v: {{type: local, site: "
            "primary, path: vault}\nbackups:\n  app: {source: {database: app}, every: 24h, "
            "keep: {last: 5}, repository: v}\n")
    env = make_env(tmp_path, {}, extra_yaml=spec)
    run = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", postgres_db, "-qc"]
    subprocess.run([*run, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"], check=True)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    subprocess.run([*run, "INSERT INTO t SELECT generate_series(2, 500)"], check=True)
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)
    first, second = _ids(env)
    listing = json.loads(env.run("backups", "ls", first, "--env", ".", "--format", "json",
                                 check=0).stdout)
    assert listing["snapshot"]["kind"] == "database" and listing["entries"] == []
    assert len(listing["parts"]) == 1 and listing["parts"][0]["raw_size"] > 0
    found = json.loads(env.run("backups", "diff", first, second, "--env", ".", "--format",
                               "json", check=0).stdout)
    assert [c["change"] for c in found["changes"]] == ["M"]
