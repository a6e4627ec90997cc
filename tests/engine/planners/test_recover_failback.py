"""A failback (`failback: true`) plans, data in and data out: a final backup of every
restored series at the site it leaves, copied here, the restores reading it, and the
servers left behind stopped after the rebuilt ones' health checks."""

from __future__ import annotations

from pathlib import Path

from engine.contracts.facts import PackFacts
from engine.planners.recover import plan_recover, recovery_scope
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import new_document
from tests.engine.planners.test_recover_planner import NOW, SPEC, snap


def spec(failback: bool) -> LoadedSpec:
    text = SPEC.replace("    databases: {db: db_dr}\n", "    databases: {db: db_dr}\n"
                        f"    failback: {str(failback).lower()}\n")
    return LoadedSpec(parse_environment([SourceFile("t.yaml", text)]), Path("/spec"),
                      ("t.yaml",), "d")


def plan(failback: bool):
    loaded = spec(failback)
    gw = snap("gw-runtime", "g1", 20, kind="server", facts={"update_level": 5,
                                                            "patches": ["patch0001"]})
    return plan_recover(loaded, new_document("t"), recovery_scope(loaded, "dr"),
                        {"db": snap("db", "d1", 20), "gw-runtime": gw},
                        pack_levels={"wso2am-4.2.0": 5},
                        packs={"wso2am-4.2.0": PackFacts(product="wso2am-4.2.0",
                                                         update_level=5)},
                        digests={}, plan_id="p1", now=NOW)


def test_a_failback_restores_final_snapshots_and_stops_the_servers_it_leaves() -> None:
    planned = plan(True)
    by_id = {a.id: a for a in planned.plan.actions}
    final = by_id["backup.db/final"]
    assert final.type == "backup.create" and final.params["repository"] == "pv"
    assert final.params["source"]["database"] == "db"
    copy = by_id["backup.db/final-copy-to-dv"]
    assert copy.params == {"series": "db", "snapshot_id": final.params["snapshot_id"],
                           "from": "pv", "to": "dv"} and copy.depends_on == (final.id,)
    restore = by_id["database.db_dr/recover"]
    assert restore.params["snapshot_id"] == final.params["snapshot_id"]
    assert restore.params["repository"] == "dv" and copy.id in restore.depends_on
    runtime = by_id["server.gw/restore-runtime"]
    assert by_id["backup.gw-runtime/final-copy-to-dv"].id in runtime.depends_on
    assert by_id["backup.gw-runtime/final"].params["source"]["host"] == "a"
    # the steps before the runtime data still come from the newest snapshot's facts
    assert planned.plan.actions[0].id.startswith("backup.")
    stop = by_id["server.gw/stop-on-a"]
    assert stop.type == "server.stop" and stop.params["home"] == "/p/opt/gw"
    assert stop.depends_on == ("server.gw/health",)
    assert "server.plain/stop-on-a" not in by_id  # no service: nothing to stop
    assert {p.target: p.age_seconds for p in planned.points} == {
        "database.db_dr": 0, "server.gw": 0}
    assert planned.newer == ()


def test_a_disaster_recovery_plans_none_of_it() -> None:
    ids = [a.id for a in plan(False).plan.actions]
    assert not [i for i in ids if "/final" in i or "/stop-on-" in i]
