"""Restores through the real CLI: a snapshot into a database (after a pre-restore backup),
into an empty folder, onto a server (after a change backup), and a server back to its
last good version byte for byte."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from state.document import StateDocument, from_bytes
from tests.helpers.world import Env, make_env, seed_apis, server_yaml

DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 10},
            repository: primary-vault, copies: [dr-vault]}
  gw-1-runtime: {source: {server: gw-1}, every: 24h, keep: {last: 10},
                 repository: primary-vault, copies: [dr-vault]}
"""
START = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
CONF = "repository/conf/deployment.toml"


def at(days: float) -> dict[str, str]:
    return {"DRYDOCK_NOW": (START + timedelta(days=days)).isoformat()}


def setup(tmp_path: Path, offset: int = 0) -> Env:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], offset=offset)},
                   extra_yaml=DATA)
    seed_apis(env.world / "primary" / "apim.db")
    return env


def count(env: Env) -> int:
    con = sqlite3.connect(env.world / "primary" / "apim.db")
    try:
        return con.execute("SELECT count(*) FROM am_api").fetchone()[0]
    finally:
        con.close()


def execute(env: Env, sql: str) -> None:
    con = sqlite3.connect(env.world / "primary" / "apim.db")
    con.executescript(sql)
    con.commit()
    con.close()


def snapshots(env: Env, series: str) -> list[dict]:
    out = env.run("backups", "list", series, "--env", ".", "--format", "json", "--rebuild",
                  check=0).stdout
    return json.loads(out)["snapshots"]


def state(env: Env) -> StateDocument:
    return from_bytes((env.spec / "state" / "t.json").read_bytes(), source="test")


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_a_snapshot_into_a_database_after_backing_it_up(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    first = snapshots(env, "apim-db")[0]["id"]
    execute(env, "DELETE FROM am_api;")  # the damage
    recorded = state(env).resources["database.apim_db"].attributes

    shown = env.run("restore", first, "--to", "database.apim_db", "--env", ".",
                    env=at(0.5), check=1)
    assert "needs confirmation" in shown.stderr
    assert "backup.create" in shown.stdout and "restore.database" in shown.stdout
    assert count(env) == 0  # nothing happened without approval

    env.run("restore", first, "--to", "database.apim_db", "--env", ".",
            "--auto-approve", env=at(0.5), check=0)
    assert count(env) == 2
    after = snapshots(env, "apim-db")
    assert len(after) == 2  # the pre-restore backup of the damaged database
    pre = next(s for s in after if s["id"] != first)
    manifest = json.loads((env.world / "primary" / "backups" / "apim-db" / pre["id"] /
                           "manifest.json").read_text())
    assert "pre-restore" in manifest["tags"]
    doc = state(env)
    assert doc.resources["database.apim_db"].attributes == recorded
    assert doc.resources["database.apim_db"].data["restored"]["snapshot"].endswith(first)


def test_restore_a_snapshot_into_an_empty_folder_only(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    sid = snapshots(env, "gw-1-runtime")[0]["id"]
    look = tmp_path / "look"
    env.run("restore", f"dr-vault:gw-1-runtime/{sid}", "--to", f"dir:{look}",
            "--env", ".", "--auto-approve", check=0)
    home = env.home("gw-1")
    assert (look / "updates" / "product.txt").read_bytes() == \
        (home / "updates" / "product.txt").read_bytes()
    proc = env.run("restore", sid, "--to", f"dir:{look}", "--env", ".",
                   "--auto-approve", check=1)
    assert "is not empty" in proc.stderr
    assert "dir:" not in "".join(state(env).resources)


def test_restore_a_snapshot_onto_a_server_after_a_change_backup(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)  # nightly: the applied conf
    good = (env.home("gw-1") / CONF).read_bytes()
    sid = max(snapshots(env, "gw-1-runtime"), key=lambda s: s["created"])["id"]
    (env.spec / "servers.yaml").write_text("servers:\n" + server_yaml("gw-1", patches=[1],
                                                                       offset=7))
    env.run("apply", ".", "--auto-approve", env=at(1.2), check=0)
    assert (env.home("gw-1") / CONF).read_bytes() != good

    env.run("restore", sid, "--to", "server.gw-1", "--env", ".", "--auto-approve",
            env=at(1.5), check=0)
    assert (env.home("gw-1") / CONF).read_bytes() == good
    record = state(env).resources["server.gw-1"]
    assert record.attributes[f"config:{CONF}"] == sha(env.home("gw-1") / CONF)
    assert record.attributes["patches"] == ["patch0001"]
    backups = env.world / "primary" / ".drydock" / "change-backups" / "gw-1"
    assert len([p for p in backups.iterdir() if (p / "backup.json").is_file()]) >= 2


def test_last_good_undoes_a_bad_config_change_byte_for_byte(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    good = (env.home("gw-1") / CONF).read_bytes()
    good_serial = state(env).serial
    (env.spec / "servers.yaml").write_text("servers:\n" + server_yaml("gw-1", patches=[1],
                                                                       offset=9))
    env.run("apply", ".", "--auto-approve", env=at(0.1), check=0)  # the bad change
    assert (env.home("gw-1") / CONF).read_bytes() != good

    proc = env.run("restore", "--last-good", "server.gw-1", "--env", ".", "--auto-approve",
                   env=at(0.2), check=0)
    assert f"state serial {good_serial}" in proc.stdout
    assert "change backup gw-1@" in proc.stderr
    assert (env.home("gw-1") / CONF).read_bytes() == good
    assert state(env).resources["server.gw-1"].attributes[f"config:{CONF}"] == \
        "sha256:" + hashlib.sha256(good).hexdigest()


def test_last_good_after_a_hand_edit_takes_the_bytes_from_a_snapshot(tmp_path: Path) -> None:
    env = setup(tmp_path)
    env.run("apply", ".", "--auto-approve", env=at(0), check=0)
    env.run("apply", ".", "--auto-approve", env=at(1), check=0)  # nightly snapshot
    good = (env.home("gw-1") / CONF).read_bytes()
    (env.home("gw-1") / CONF).write_bytes(good.replace(b"offset = 0", b"offset = 42"))
    proc = env.run("restore", "--last-good", "server.gw-1", "--env", ".", "--auto-approve",
                   env=at(1.5), check=0)
    assert "from snapshot primary-vault:gw-1-runtime/" in proc.stderr
    assert (env.home("gw-1") / CONF).read_bytes() == good
    again = env.run("restore", "--last-good", "server.gw-1", "--env", ".", "--auto-approve",
                    env=at(1.6), check=1)
    assert "nothing to go back to" in again.stderr
