"""The backup scheduler, data in and data out: due, copies, prune safety, server order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.contracts.catalog import CatalogEntry, catalog_to_data
from engine.contracts.models import Action, ObservedResource
from engine.planners.backups import plan_backups, snapshot_id_for
from engine.planners.base import PlanContext
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment

SPEC = """\
environment: t
sites: {a: {}, b: {}}
hosts: {h: {site: a, root: /srv}}
products: {p-1: {pack: /p.zip}}
servers: {s: {host: h, product: p-1, home: opt/s}}
databases: {db: {engine: sqlite, path: /d.db}}
repositories:
  va: {type: local, site: a, path: /va}
  vb: {type: local, site: b, path: /vb}
backups:
  db:
    source: {database: db}
    every: 24h
    keep: {last: 2}
    repository: va
    copies: [vb]
  srv:
    source: {server: s}
    every: 7d
    keep: {last: 5}
    repository: va
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec() -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC)]), Path("/spec"), ("t.yaml",),
                      "d")


def entries(repo: str, series: str, ages_h: list[int]) -> list[CatalogEntry]:
    return [CatalogEntry(id=f"{series}-{h}h", series=series, repository=repo,
                         created=NOW - timedelta(hours=h)) for h in ages_h]


def ctx(catalogs: dict[str, list[CatalogEntry]]) -> PlanContext:
    observed = {f"backup.{name}": ObservedResource(
        address=f"backup.{name}", exists=True, facts={"catalog": catalog_to_data(es)})
        for name, es in catalogs.items()}
    return PlanContext(spec=spec(), plan_id="plan1", now=NOW, observed=observed)


def by_type(actions: list[Action], type_: str) -> list[Action]:
    return [a for a in actions if a.type == type_]


def test_nothing_yet_creates_and_copies() -> None:
    actions, edges = plan_backups(ctx({"db": [], "srv": []}), {})
    creates = by_type(actions, "backup.create")
    assert {a.address for a in creates} == {"backup.db", "backup.srv"}
    copy = by_type(actions, "backup.copy")
    assert len(copy) == 1 and copy[0].depends_on == ("backup.db/create",)
    assert copy[0].params["snapshot_id"] == snapshot_id_for(NOW, "plan1", "db")
    assert edges == []


def test_fresh_enough_creates_nothing() -> None:
    cats = {"db": entries("va", "db", [5]) + entries("vb", "db", [5]),
            "srv": entries("va", "srv", [100])}
    actions, _ = plan_backups(ctx(cats), {})
    assert actions == []


def test_exactly_every_old_is_due() -> None:
    cats = {"db": entries("va", "db", [24]) + entries("vb", "db", [24]),
            "srv": entries("va", "srv", [1])}
    actions, _ = plan_backups(ctx(cats), {})
    creates = by_type(actions, "backup.create")
    assert [a.address for a in creates] == ["backup.db"]
    assert "newest is 1d old, every 1d" in creates[0].summary


def test_server_change_takes_a_backup_first() -> None:
    cats = {"db": entries("va", "db", [1]) + entries("vb", "db", [1]),
            "srv": entries("va", "srv", [1])}
    server_first = Action(id="server.s/backup", address="server.s", type="server.backup",
                          summary="x")
    actions, edges = plan_backups(ctx(cats), {"server.s": [server_first]})
    assert [a.id for a in actions] == ["backup.srv/create", "backup.srv/create-after-change"]
    assert "before the change of server.s" in actions[0].summary
    assert edges == [("backup.srv/create", "server.s/backup"),
                     ("server.s/backup", "backup.srv/create-after-change")]


def test_prune_lists_every_deletion_with_a_reason_and_waits_for_copies() -> None:
    cats = {"db": entries("va", "db", [30, 50, 70, 90]) + entries("vb", "db", [30, 50, 70, 90]),
            "srv": entries("va", "srv", [1])}
    actions, _ = plan_backups(ctx(cats), {})
    prune = next(a for a in actions if a.id == "backup.db/prune-va")
    deleted = [d["id"] for d in prune.params["deletes"]]
    assert deleted == ["db-50h", "db-70h", "db-90h"]
    assert all("beyond last 2" in d["reason"] for d in prune.params["deletes"])
    assert "backup.db/create" in prune.depends_on and prune.risky


def test_snapshots_retention_keeps_reach_the_copy_before_the_primary_prunes() -> None:
    cats = {"db": entries("va", "db", [1, 30, 50]) + entries("vb", "db", [50]),
            "srv": entries("va", "srv", [1])}
    actions, _ = plan_backups(ctx(cats), {})
    copies = {a.params["snapshot_id"]: a.id for a in by_type(actions, "backup.copy")}
    assert set(copies) == {"db-1h", "db-30h"}  # kept by last 2, missing at vb
    prune_va = next(a for a in actions if a.id == "backup.db/prune-va")
    assert [d["id"] for d in prune_va.params["deletes"]] == ["db-50h"]
    prune_vb = next(a for a in actions if a.id == "backup.db/prune-vb")
    assert [d["id"] for d in prune_vb.params["deletes"]] == ["db-50h"]
    assert set(copies.values()) <= set(prune_vb.depends_on)


def test_a_dropped_snapshot_is_not_copied() -> None:
    cats = {"db": entries("va", "db", [1, 30, 50]) + entries("vb", "db", [1, 30]),
            "srv": entries("va", "srv", [1])}
    actions, _ = plan_backups(ctx(cats), {})
    assert by_type(actions, "backup.copy") == []


def test_pins_and_verified_survive_retention() -> None:
    c = ctx({"db": entries("va", "db", [30, 50, 70]) + entries("vb", "db", [30, 50, 70]),
             "srv": entries("va", "srv", [1])})
    c = PlanContext(spec=c.spec, plan_id=c.plan_id, now=c.now, observed=c.observed,
                    recorded_data={"backup.db": {"pins": ["db-70h"]}})
    actions, _ = plan_backups(c, {})
    prune = next(a for a in actions if a.id == "backup.db/prune-va")
    assert [d["id"] for d in prune.params["deletes"]] == ["db-50h"]


def test_a_server_being_installed_is_not_backed_up_first() -> None:
    """Only after: the snapshot taken once the new server is healthy covers a due one."""
    for ages in ([1], []):
        cats = {"db": entries("va", "db", [1]) + entries("vb", "db", [1]),
                "srv": entries("va", "srv", ages)}
        install = Action(id="server.s/install", address="server.s", type="server.install",
                         summary="x")
        actions, edges = plan_backups(ctx(cats), {"server.s": [install]})
        assert [a.id for a in actions] == ["backup.srv/create-after-change"]
        assert edges == [("server.s/install", "backup.srv/create-after-change")]


def test_interrupted_writes_older_than_the_grace_are_listed_as_cleanup() -> None:
    context = ctx({"db": entries("va", "db", [1]) + entries("vb", "db", [1])})
    observed = context.observed["backup.db"]
    leftovers = {"va": [{"id": "old-1", "modified": (NOW - timedelta(hours=7)).isoformat()},
                        {"id": "live-1", "modified": (NOW - timedelta(hours=1)).isoformat()}],
                 "vb": [{"id": "old-2", "modified": (NOW - timedelta(days=3)).isoformat()}]}
    context.observed["backup.db"] = observed.model_copy(
        update={"facts": {**observed.facts, "leftovers": leftovers}})
    actions, _ = plan_backups(context, {})
    cleanups = by_type(actions, "backup.cleanup")
    assert [(a.params["repository"], a.params["leftovers"]) for a in cleanups] == [
        ("va", ["old-1"]), ("vb", ["old-2"])]
    assert "left by interrupted writes: old-1" in cleanups[0].summary
    assert not by_type(plan_backups(ctx({"db": entries("va", "db", [1])}), {})[0],
                       "backup.cleanup")
