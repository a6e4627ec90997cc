"""Recovery planning at another site, data in and data out: the scope from the mapping,
which snapshots count, the rebuild's actions and order, records and the RPO."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contracts.facts import PackFacts, SnapshotInfo
from engine.planners.recover import RecoverError, candidates, plan_recover, recovery_scope
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import new_document

SPEC = """\
environment: t
sites: {primary: {}, dr: {}}
hosts:
  a: {site: primary, root: /p}
  b: {site: dr, root: /d}
products: {wso2am-4.2.0: {pack: /w/p.zip, updates: /w/u, patches: /w/pt}}
servers:
  gw:
    host: a
    product: wso2am-4.2.0
    home: opt/gw
    update_level: 5
    patches: [WSO2-CARBON-PATCH-4.9.0-0001]
    config: {repository/conf/deployment.toml: {content: "port = 1\\n"}}
    service: {start: bin/start, stop: bin/stop, health: {http: "http://127.0.0.1:1/", timeout: 5s}}
  plain: {host: a, product: wso2am-4.2.0, home: opt/plain,
          config: {repository/conf/x.toml: {content: "y = 2\\n"}}}
  stays: {host: b, product: wso2am-4.2.0, home: opt/stays}
databases:
  db: {engine: sqlite, path: /p/db.sqlite, site: primary}
  db_dr: {engine: sqlite, path: /d/db.sqlite, site: dr}
repositories:
  pv: {type: local, site: primary, path: /p/backups}
  dv: {type: local, site: dr, path: /d/backups}
backups:
  db: {source: {database: db}, every: 24h, repository: pv, copies: [dv]}
  gw-runtime: {source: {server: gw}, every: 24h, repository: pv, copies: [dv]}
recover:
  dr:
    hosts: {a: b}
    databases: {db: db_dr}
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec() -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC)]), Path("/spec"),
                      ("t.yaml",), "d")


def snap(series: str, sid: str, hours: float, *, repo: str = "dv", kind: str = "database",
         facts: dict | None = None) -> SnapshotInfo:
    return SnapshotInfo(repository=repo, series=series, id=sid, kind=kind, address="x",
                        created=NOW - timedelta(hours=hours), facts=facts or {})


def test_scope_reads_the_mapping_and_defaults_to_the_site_repositories() -> None:
    scope = recovery_scope(spec(), "dr")
    assert scope.repositories == ("dv",)
    assert [(s.server, s.new_host, s.policies) for s in scope.servers] == [
        ("gw", "b", ("gw-runtime",)), ("plain", "b", ())]
    assert [(d.lost, d.replacement, d.policies) for d in scope.databases] == [
        ("db", "db_dr", ("db",))]
    with pytest.raises(RecoverError, match="no recover mapping for site 'primary'"):
        recovery_scope(spec(), "primary")


def test_candidates_are_newest_first_and_only_from_the_scope_repositories() -> None:
    scope = recovery_scope(spec(), "dr")
    snaps = [snap("db", "old", 30), snap("db", "new", 2), snap("db", "newest", 1, repo="pv"),
             snap("gw-runtime", "g", 1)]
    assert [s.id for s in candidates(scope, "db", snaps)] == ["new", "old"]


def _plan(chosen: dict[str, SnapshotInfo]):
    return plan_recover(spec(), new_document("t"), recovery_scope(spec(), "dr"), chosen,
                        pack_levels={"wso2am-4.2.0": 2},
                        packs={"wso2am-4.2.0": PackFacts(
                            product="wso2am-4.2.0", update_level=2, platform_version="4.9.0",
                            packages={3: "/w/u/WSO2-CARBON-UPDATE-4.9.0-0003.zip",
                                      4: "/w/u/hotfix-four.zip"})},
                        digests={"gw-runtime": {"repository/conf/deployment.toml": "sha256:cc"}},
                        plan_id="p1", now=NOW)


def test_rebuild_installs_levels_patches_then_runtime_data_then_starts_after_the_data() -> None:
    gw = snap("gw-runtime", "g1", 2, kind="server",
              facts={"update_level": 4, "patches": ["patch0001", "patch0003"]})
    planned = _plan({"db": snap("db", "d1", 3), "gw-runtime": gw})
    ids = [a.id for a in planned.plan.actions if a.address == "server.gw"]
    assert ids == ["server.gw/install", "server.gw/update-0003", "server.gw/update-0004",
                   "server.gw/patch-add-patch0001", "server.gw/patch-add-patch0003",
                   "server.gw/restore-runtime", "server.gw/start", "server.gw/health"]
    by_id = {a.id: a for a in planned.plan.actions}
    install = by_id["server.gw/install"]
    assert install.params["home"] == "/d/opt/gw" and install.params["host"] == "b"
    assert install.params["pack"] == "/w/p.zip"
    assert by_id["server.gw/update-0003"].params["package"] == \
        "/w/u/WSO2-CARBON-UPDATE-4.9.0-0003.zip"
    assert by_id["server.gw/update-0004"].params["package"] == "/w/u/hotfix-four.zip"
    assert by_id["server.gw/update-0004"].params["platform_version"] == "4.9.0"
    assert by_id["server.gw/update-0004"].params["product_version"] == "4.2.0"
    patch = by_id["server.gw/patch-add-patch0003"].params
    assert patch["patch_id"] == "WSO2-CARBON-PATCH-4.9.0-0003"
    assert patch["archive"] == "/w/pt/WSO2-CARBON-PATCH-4.9.0-0003.zip"
    runtime = by_id["server.gw/restore-runtime"].params
    assert runtime["snapshot_id"] == "g1" and runtime["repository"] == "dv"
    assert runtime["only"] is None and runtime["dest"] == "/d/opt/gw"  # all it holds
    assert "database.db_dr/recover" in by_id["server.gw/start"].depends_on
    restore = by_id["database.db_dr/recover"].params
    assert restore == {"repository": "dv", "series": "db", "snapshot_id": "d1",
                       "database": "db_dr", "replace": True}
    assert not any(a.address == "server.stays" for a in planned.plan.actions)


def test_records_say_where_things_are_now_and_the_rpo_is_the_age_of_the_data() -> None:
    gw = snap("gw-runtime", "g1", 2, kind="server", facts={"update_level": 4,
                                                            "patches": ["patch0001"]})
    planned = _plan({"db": snap("db", "d1", 3), "gw-runtime": gw})
    records = {r.address: r.attributes for r in planned.plan.records}
    assert records["server.gw"] == {"product": "wso2am-4.2.0", "home": "/d/opt/gw",
                                    "patches": ["patch0001"], "update_level": 4,
                                    "config:repository/conf/deployment.toml": "sha256:cc"}
    assert records["database.db_dr"]["path"] == "/d/db.sqlite"
    points = {p.target: p.age_seconds for p in planned.points}
    assert points == {"database.db_dr": 3 * 3600, "server.gw": 2 * 3600}


def test_a_server_without_a_snapshot_gets_the_spec_and_a_warning() -> None:
    planned = _plan({"db": snap("db", "d1", 3)})
    plain = [a for a in planned.plan.actions if a.address == "server.plain"]
    assert [a.type for a in plain] == ["server.install", "server.config"]
    assert plain[1].params["content"] == "y = 2\n"
    assert any(m.startswith("server.plain: no snapshot") for m in planned.missing)
    assert any(w.startswith("server.gw: no snapshot") for w in planned.plan.warnings)
    gw_levels = [a for a in planned.plan.actions if a.type == "server.update"
                 and a.address == "server.gw"]
    assert [a.params["level"] for a in gw_levels] == [3, 4, 5]  # the spec's level


def test_a_database_without_a_snapshot_is_reported_missing() -> None:
    gw = snap("gw-runtime", "g1", 2, kind="server", facts={"update_level": 2, "patches": []})
    planned = _plan({"gw-runtime": gw})
    assert not any(a.type == "restore.database" for a in planned.plan.actions)
    assert any(m.startswith("database.db: no snapshot") for m in planned.missing)
