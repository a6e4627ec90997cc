"""Restore planning, data in and data out: naming snapshots and targets, what a restore
backs up first, what it refuses, and the way back to a server's last good version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contracts.facts import SnapshotInfo
from engine.contracts.models import ObservedResource
from engine.desired.servers import sha256_text
from engine.planners.restore.common import (
    RestoreError,
    SnapshotRef,
    parse_restore_target,
    parse_snapshot_ref,
)
from engine.planners.restore.last_good import (
    differs,
    good_attributes,
    last_good_desired,
    last_good_spec,
    plan_last_good,
    succeeded,
)
from engine.planners.restore.snapshot import find_snapshot, plan_snapshot_restore
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import ResourceRecord, new_document

SPEC = """\
environment: t
sites: {a: {}, b: {}}
hosts: {h: {site: a, root: /srv}}
products: {wso2am-4.2.0: {pack: /p.zip, updates: /u, patches: /pt}}
servers:
  s:
    host: h
    product: wso2am-4.2.0
    home: opt/s
    update_level: 3
    patches: [WSO2-CARBON-PATCH-4.9.0-0001]
    config: {repository/conf/deployment.toml: {content: "x = 1\\n", mode: 384}}
    service: {start: bin/start, stop: bin/stop}
databases:
  db: {engine: sqlite, path: /d.db}
  other: {engine: sqlite, path: /o.db}
  pg: {engine: postgres, dbname: apim}
repositories:
  va: {type: local, site: a, path: /va}
  vb: {type: local, site: b, path: /vb}
backups:
  db: {source: {database: db}, every: 24h, repository: va, copies: [vb], tags: [nightly]}
  srv: {source: {server: s}, every: 24h, repository: va}
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec() -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC)]), Path("/spec"),
                      ("t.yaml",), "d")


def snap(kind: str = "database", *, repo: str = "vb", series: str = "db", sid: str = "s1",
         engine: str | None = "sqlite", facts: dict | None = None) -> SnapshotInfo:
    return SnapshotInfo(repository=repo, series=series, id=sid, created=NOW - timedelta(hours=3),
                        kind=kind, address=f"{kind}.x", engine=engine, facts=facts or {})


def server_doc(**attrs: object):
    base = {"product": "wso2am-4.2.0", "home": "/srv/opt/s", "update_level": 3,
            "patches": ["patch0001"], "config:repository/conf/deployment.toml": "sha256:aa",
            "owner": "team-a"}
    record = ResourceRecord(kind="server", name="s", attributes={**base, **attrs})
    return new_document("t").model_copy(update={"resources": {"server.s": record}})


def test_snapshot_and_target_names_parse_or_say_how_to_write_them() -> None:
    assert parse_snapshot_ref("s1") == SnapshotRef(id="s1")
    assert parse_snapshot_ref("db/s1") == SnapshotRef(id="s1", series="db")
    assert parse_snapshot_ref("vb:db/s1") == SnapshotRef(id="s1", series="db", repository="vb")
    with pytest.raises(RestoreError, match="SERIES/ID"):
        parse_snapshot_ref("a/b/c")
    assert parse_restore_target("database.db").address == "database.db"
    assert parse_restore_target("dir:/tmp/x").name == "/tmp/x"
    with pytest.raises(RestoreError, match="database.NAME, server.NAME or dir:/PATH"):
        parse_restore_target("backup.db")


def test_find_snapshot_prefers_the_policy_repository_then_names() -> None:
    listings = {"va": [snap(repo="va")], "vb": [snap(repo="vb")]}
    assert find_snapshot(SnapshotRef(id="s1"), listings, ["va", "vb"]).repository == "va"
    assert find_snapshot(SnapshotRef(id="s1", repository="vb"), listings).repository == "vb"
    with pytest.raises(RestoreError, match="none of the repositories"):
        find_snapshot(SnapshotRef(id="nope"), listings)
    twice = {"va": [snap(repo="va"), snap(repo="va", series="srv")]}
    with pytest.raises(RestoreError, match="several series"):
        find_snapshot(SnapshotRef(id="s1"), twice)


def test_database_restore_backs_up_what_it_overwrites_first() -> None:
    plan = plan_snapshot_restore(spec(), new_document("t"), snap(), parse_restore_target(
        "database.db"), exists=True, plan_id="p1", now=NOW)
    backup, restore = plan.actions
    assert backup.type == "backup.create" and backup.params["repository"] == "va"
    assert backup.params["tags"] == ["nightly", "pre-restore"]
    assert restore.type == "restore.database" and restore.depends_on == (backup.id,)
    assert restore.params == {"repository": "vb", "series": "db", "snapshot_id": "s1",
                              "database": "db", "replace": True}
    assert plan.records == ()  # restoring data changes no recorded attribute


def test_a_missing_database_needs_no_backup_and_one_without_a_policy_is_refused() -> None:
    plan = plan_snapshot_restore(spec(), new_document("t"), snap(), parse_restore_target(
        "database.other"), exists=False, plan_id="p1", now=NOW)
    assert [a.type for a in plan.actions] == ["restore.database"]
    with pytest.raises(RestoreError, match="no backup policy backs it up"):
        plan_snapshot_restore(spec(), new_document("t"), snap(), parse_restore_target(
            "database.other"), exists=True, plan_id="p1", now=NOW)


def test_snapshots_that_do_not_fit_the_target_are_refused() -> None:
    doc, target = new_document("t"), parse_restore_target("database.pg")
    with pytest.raises(RestoreError, match="sqlite dump; database.pg is postgres"):
        plan_snapshot_restore(spec(), doc, snap(), target, exists=False, plan_id="p", now=NOW)
    with pytest.raises(RestoreError, match="not a database"):
        plan_snapshot_restore(spec(), doc, snap("server", series="srv", engine=None),
                              parse_restore_target("database.db"), exists=False, plan_id="p",
                              now=NOW)
    with pytest.raises(RestoreError, match="is not empty"):
        plan_snapshot_restore(spec(), doc, snap("paths", engine=None),
                              parse_restore_target("dir:/tmp/full"), exists=True, plan_id="p",
                              now=NOW)


def test_server_restore_takes_a_change_backup_and_records_only_what_changes() -> None:
    s = snap("server", series="srv", engine=None, facts={"update_level": 2, "patches": []})
    digest = "sha256:" + "b" * 64
    plan = plan_snapshot_restore(spec(), server_doc(), s, parse_restore_target("server.s"),
                                 exists=True, digests={"repository/conf/deployment.toml": digest},
                                 plan_id="p1", now=NOW)
    assert [a.type for a in plan.actions] == ["server.backup", "server.stop", "restore.paths",
                                              "server.start"]
    backup = plan.actions[0]
    assert backup.params["backup_dir"] == "/srv/.drydock/change-backups/s/p1"
    assert [c.type for c in backup.compensation] == ["server.stop", "server.restore-backup",
                                                     "server.start"]
    record = plan.records[0].attributes
    assert record["update_level"] == 2 and record["patches"] == []
    assert record["config:repository/conf/deployment.toml"] == digest
    assert record["owner"] == "team-a" and record["home"] == "/srv/opt/s"
    assert any("next plan puts the spec back" in w for w in plan.warnings)


def test_only_successful_applies_count_as_good() -> None:
    assert succeeded("12 ok, 0 failed, 0 skipped")
    assert not succeeded("3 ok, 1 failed, 2 skipped")
    assert not succeeded("rollback to 3")


def test_last_good_brings_back_level_patches_and_the_exact_bytes() -> None:
    loaded = spec()
    good = good_attributes({"product": "wso2am-4.2.0", "update_level": 3,
                            "patches": ["patch0001"],
                            "config:repository/conf/deployment.toml": sha256_text("good\n")})
    assert "product" not in good
    doc = server_doc(**{"config:repository/conf/deployment.toml": sha256_text("bad\n")})
    crafted = last_good_spec(loaded, "s", good)
    assert crafted.env.servers["s"].config["repository/conf/deployment.toml"].mode == 0o600
    assert crafted.digest == loaded.digest
    desired = last_good_desired(crafted, "s", good, {"repository/conf/deployment.toml": "good\n"})
    observed = ObservedResource(address="server.s", exists=True, attributes={
        "product": "wso2am-4.2.0", "home": "/srv/opt/s", "update_level": 3,
        "patches": ["patch0001"],
        "config:repository/conf/deployment.toml": sha256_text("bad\n")})
    assert differs(good, observed.attributes)
    plan = plan_last_good(crafted, doc, "s", desired, observed, serial=4, plan_id="p2", now=NOW)
    types = [a.type for a in plan.actions]
    assert types == ["server.backup", "server.stop", "server.config", "server.start"]
    config = plan.actions[2].params
    assert config["content"] == "good\n" and config["sha256"] == sha256_text("good\n")
    assert config["mode"] == 0o600
    assert "state serial 4" in plan.changes[0].reason
    record = plan.records[0].attributes
    assert record["config:repository/conf/deployment.toml"] == sha256_text("good\n")
    assert record["owner"] == "team-a"


def test_last_good_refuses_when_the_server_already_is_that_version() -> None:
    loaded = spec()
    good = {"update_level": 3, "patches": ["patch0001"],
            "config:repository/conf/deployment.toml": sha256_text("good\n")}
    crafted = last_good_spec(loaded, "s", good)
    desired = last_good_desired(crafted, "s", good, {"repository/conf/deployment.toml": "good\n"})
    observed = ObservedResource(address="server.s", exists=True, attributes={
        "product": "wso2am-4.2.0", "home": "/srv/opt/s", **good})
    with pytest.raises(RestoreError, match="already matches"):
        plan_last_good(crafted, server_doc(), "s", desired, observed, serial=4, plan_id="p",
                       now=NOW)
