"""Restores from a real local repository: reading tar members, restoring chosen paths,
databases (SQLite), finding a server's recorded bytes, and the provider's observations."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.spec.loader import LoadedSpec, load_spec
from providers.backup_sources import backup_paths
from providers.databases.base import DatabaseTarget
from providers.databases.engines import engine_for
from providers.hosts.local import LocalTransport
from providers.product.change_backup import take_backup
from providers.repositories.errors import IntegrityError
from providers.repositories.factory import open_repository
from providers.repositories.manifest import SnapshotFields, SnapshotSource
from providers.restore.actions import RestoreRefused, restore_database, restore_tree
from providers.restore.provider import RestoreProvider
from providers.restore.server_files import find_server_files
from providers.restore.snapshots import list_snapshots, tar_members

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)
SPEC = """\
environment: t
sites: {a: {}}
hosts: {h: {site: a, root: world/h}}
products: {p-1: {pack: world/p.zip}}
servers:
  gw: {host: h, product: p-1, home: opt/gw,
       config: {repository/conf/deployment.toml: {content: "x\\n"}}}
databases:
  db: {engine: sqlite, path: world/db.sqlite}
  pg: {engine: postgres, dbname: never_touched}
repositories:
  vault: {type: local, site: a, path: world/vault}
backups:
  db: {source: {database: db}, every: 24h, repository: vault}
  gw-runtime: {source: {server: gw}, every: 24h, repository: vault}
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def setup(tmp_path: Path) -> LoadedSpec:
    (tmp_path / "t.yaml").write_text(SPEC)
    spec = load_spec(tmp_path)
    home = tmp_path / "world" / "h" / "opt" / "gw"
    (home / "repository" / "conf").mkdir(parents=True)
    (home / "repository" / "conf" / "deployment.toml").write_text("port = 1\n")
    (home / "repository" / "conf" / "carbon.xml").write_text("<carbon/>\n")
    (home / "updates").mkdir()
    (home / "updates" / "config.json").write_text('{"update-level": 3}')
    return spec


def paths_snapshot(spec: LoadedSpec, sid: str = "s1") -> str:
    repo = open_repository(spec, "vault")
    home = spec.directory / "world" / "h" / "opt" / "gw"
    fields = SnapshotFields(source=SnapshotSource(kind="server", address="server.gw",
                                                  facts={"update_level": 3}), created=NOW)
    backup_paths(repo, "gw-runtime", sid, T, home, ["repository/conf", "updates"], fields)
    return sid


def db_snapshot(spec: LoadedSpec, rows: int = 3) -> str:
    path = spec.directory / "world" / "db.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY);")
    con.executemany("INSERT INTO t DEFAULT VALUES", [()] * rows)
    con.commit()
    con.close()
    engine = engine_for("sqlite")
    fields = SnapshotFields(source=SnapshotSource(kind="database", address="database.db",
                                                  engine="sqlite"), created=NOW)
    open_repository(spec, "vault").put(
        "db", "d1", [engine.dump_part(DatabaseTarget(engine="sqlite", path=path))], fields)
    return "d1"


def test_tar_members_hash_what_the_snapshot_holds_and_notice_damage(tmp_path: Path) -> None:
    spec = setup(tmp_path)
    sid = paths_snapshot(spec)
    repo = open_repository(spec, "vault")
    members = tar_members(repo, "gw-runtime", sid, ["repository/conf"], read=True)
    assert sorted(members) == ["repository/conf/carbon.xml", "repository/conf/deployment.toml"]
    assert members["repository/conf/deployment.toml"].sha256 == sha(b"port = 1\n")
    assert members["repository/conf/deployment.toml"].data == b"port = 1\n"
    assert [s.id for s in list_snapshots(repo)] == [sid]
    part = next((tmp_path / "world" / "vault" / "gw-runtime" / sid).glob("*.zst"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        tar_members(repo, "gw-runtime", sid)


def test_restore_tree_replaces_only_the_chosen_paths_it_holds(tmp_path: Path) -> None:
    spec = setup(tmp_path)
    sid = paths_snapshot(spec)
    dest = tmp_path / "dest"
    (dest / "repository" / "conf").mkdir(parents=True)
    (dest / "repository" / "conf" / "deployment.toml").write_text("port = 9\n")
    (dest / "repository" / "conf" / "stale.xml").write_text("old\n")
    (dest / "updates").mkdir()
    (dest / "updates" / "config.json").write_text("untouched")
    done = restore_tree(open_repository(spec, "vault"), "gw-runtime", sid, T, dest,
                        only=["repository/conf", "repository/tenants"])
    assert done.paths == ("repository/conf",) and done.skipped == ("repository/tenants",)
    assert (dest / "repository" / "conf" / "deployment.toml").read_text() == "port = 1\n"
    assert not (dest / "repository" / "conf" / "stale.xml").exists()
    assert (dest / "updates" / "config.json").read_text() == "untouched"


def test_restore_tree_into_a_folder_that_must_be_empty_refuses_a_full_one(
        tmp_path: Path) -> None:
    spec = setup(tmp_path)
    sid = paths_snapshot(spec)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(RestoreRefused, match="not an empty folder"):
        restore_tree(open_repository(spec, "vault"), "gw-runtime", sid, T, full,
                     require_empty=True)
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    fresh = tmp_path / "fresh"
    restore_tree(open_repository(spec, "vault"), "gw-runtime", sid, T, fresh, require_empty=True)
    assert (fresh / "updates" / "config.json").is_file()


def test_restore_database_loads_sqlite_and_refuses_another_engine(tmp_path: Path) -> None:
    spec = setup(tmp_path)
    sid = db_snapshot(spec, rows=4)
    repo = open_repository(spec, "vault")
    (tmp_path / "world" / "db.sqlite").unlink()

    def resolve(_ref: object) -> str:
        raise AssertionError("no secret is needed")

    message = restore_database(spec, resolve, repo, "db", sid, "db", replace=True)
    assert "restored snapshot d1" in message
    con = sqlite3.connect(tmp_path / "world" / "db.sqlite")
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 4
    con.close()
    with pytest.raises(RestoreRefused, match="sqlite dump; database pg is postgres"):
        restore_database(spec, resolve, repo, "db", sid, "pg", replace=True)


def test_server_files_come_from_change_backups_then_snapshots_by_digest(tmp_path: Path) -> None:
    spec = setup(tmp_path)
    home = tmp_path / "world" / "h" / "opt" / "gw"
    root = tmp_path / "world" / "h" / ".drydock" / "change-backups" / "gw"
    take_backup(T, home, root / "20260101T000000Z-aaaaaa", ["repository/conf"])
    paths_snapshot(spec)
    (home / "repository" / "conf" / "deployment.toml").write_text("port = 2\n")
    take_backup(T, home, root / "20260102T000000Z-bbbbbb", ["repository/conf"])
    (home / "repository" / "conf" / "deployment.toml").write_text("port = 3\n")
    conf = "repository/conf/deployment.toml"
    found = find_server_files(spec, T, "gw", {conf: "sha256:" + sha(b"port = 1\n")})
    assert found[conf].text == "port = 1\n"
    assert found[conf].source == "change backup gw@20260101T000000Z-aaaaaa"
    shutil.rmtree(root)
    found = find_server_files(spec, T, "gw", {conf: "sha256:" + sha(b"port = 1\n")})
    assert found[conf].source == "snapshot vault:gw-runtime/s1"
    assert find_server_files(spec, T, "gw", {conf: "sha256:" + sha(b"never\n")}) == {}


def test_provider_describes_repositories_and_verifies_snapshots(tmp_path: Path) -> None:
    spec = setup(tmp_path)
    sid = paths_snapshot(spec)
    provider = RestoreProvider()

    listing = provider.list_repository(spec, "vault").snapshots
    assert [(s.series, s.id, s.kind, s.facts) for s in listing] == [
        ("gw-runtime", sid, "server", {"update_level": 3})]
    seen = provider.inspect_snapshot(spec, listing[0], verify=True,
                                     files=["repository/conf/deployment.toml"])
    assert seen.verified is True
    assert seen.files == {"repository/conf/deployment.toml": "sha256:" + sha(b"port = 1\n")}
    part = next((tmp_path / "world" / "vault" / "gw-runtime" / sid).glob("*.zst"))
    part.write_bytes(part.read_bytes()[:-1] + b"\0")
    damaged = provider.inspect_snapshot(spec, listing[0], verify=True)
    assert damaged.verified is False and "sha256" in (damaged.problem or "")
