"""The drill scheduler and drill status, data in and data out: when a drill is due, which
snapshot it names, scratch safety, and which drills need attention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contracts.catalog import CatalogEntry, catalog_to_data
from engine.contracts.drills import DrillRun
from engine.contracts.models import Action, ObservedResource
from engine.drills_status import drill_findings, failed_drill_warnings
from engine.planners.backups import plan_backups
from engine.planners.base import PlanContext
from engine.planners.drills import desired_drills, plan_drills
from engine.planning import make_plan
from engine.spec.errors import SpecError
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import ResourceRecord, new_document

BASE = """\
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
    keep: {last: 10}
    repository: va
    copies: [vb]
  srv: {source: {server: s}, every: 7d, repository: va}
"""
DRILL = """\
drills:
  d:
    backup: db
    from: vb
    every: 7d
    into: {database: {engine: sqlite, path: /scratch/d.db}}
    verify: [{sql: "SELECT count(*) FROM t", expect: ">= 1"}]
    rto: 10m
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec(drills: str = DRILL) -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", BASE + drills)]), Path("/spec"),
                      ("t.yaml",), "d")


def entries(repo: str, ages_h: list[int], series: str = "db") -> list[CatalogEntry]:
    return [CatalogEntry(id=f"{series}-{h}h", series=series, repository=repo,
                         created=NOW - timedelta(hours=h)) for h in ages_h]


def run(snapshot: str, hours_ago: float, *, passed: bool = True) -> dict:
    started = NOW - timedelta(hours=hours_ago)
    return DrillRun(snapshot=snapshot, repository="vb", started=started, finished=started,
                    seconds=1.0, rto_seconds=600, within_rto=True, passed=passed,
                    error=None if passed else "boom").model_dump(mode="json")


def ctx(catalog: list[CatalogEntry], runs: list[dict] | None = None, *,
        loaded: LoadedSpec | None = None, plan_id: str = "plan1") -> PlanContext:
    observed = {"backup.db": ObservedResource(address="backup.db", exists=True,
                                              facts={"catalog": catalog_to_data(catalog)})}
    data = {"drill.d": {"runs": runs}} if runs is not None else {}
    return PlanContext(spec=loaded or spec(), plan_id=plan_id, now=NOW, observed=observed,
                       recorded_data=data)


def drill_actions(c: PlanContext, planned: list[Action] | None = None) -> tuple[list[Action],
                                                                             list[str]]:
    return plan_drills(c, planned if planned is not None else [])


def test_never_run_drill_restores_the_newest_snapshot_of_its_repository() -> None:
    catalog = entries("va", [1, 30]) + entries("vb", [2, 30, 50])
    actions, warnings = drill_actions(ctx(catalog))
    assert [a.type for a in actions] == ["drill.run", "drill.verdict"]
    run_action = actions[0]
    assert run_action.params["snapshot_id"] == "db-2h"  # newest in vb, not va's db-1h
    assert run_action.params["repository"] == "vb"
    assert "never run" in run_action.summary and "db-2h" in run_action.summary
    assert actions[1].depends_on == (run_action.id,)
    assert warnings == []


def test_a_drill_is_due_only_when_every_has_passed_since_its_last_run() -> None:
    catalog = entries("vb", [2])
    assert drill_actions(ctx(catalog, [run("db-2h", 24)]))[0] == []
    due, _ = drill_actions(ctx(catalog, [run("db-2h", 7 * 24)]))
    assert due and "last run 7d ago, every 7d" in due[0].summary


def test_a_failed_last_run_makes_the_drill_due_again() -> None:
    actions, _ = drill_actions(ctx(entries("vb", [2]), [run("db-2h", 1, passed=False)]))
    assert actions and "its last run failed" in actions[0].summary


def test_previous_runs_travel_in_the_params_capped_to_keep_20_in_all() -> None:
    runs = [run(f"s{i}", 24 * 8 + i) for i in range(25)][::-1]
    actions, _ = drill_actions(ctx(entries("vb", [2]), runs))
    kept = actions[0].params["previous_runs"]
    assert len(kept) == 19 and kept[-1]["snapshot"] == runs[-1]["snapshot"]


def test_random_pick_is_within_the_window_and_fixed_by_the_plan_id() -> None:
    loaded = spec(DRILL.replace("every: 7d\n", "every: 7d\n    pick: random\n    window: 3d\n"))
    catalog = entries("vb", [1, 10, 20, 40, 60, 100, 200])
    picks = {drill_actions(ctx(catalog, loaded=loaded, plan_id=f"p{i}"))[0][0]
             .params["snapshot_id"] for i in range(40)}
    assert picks <= {"db-1h", "db-10h", "db-20h", "db-40h", "db-60h"}
    assert len(picks) > 1
    again = {drill_actions(ctx(catalog, loaded=loaded, plan_id="p7"))[0][0]
             .params["snapshot_id"] for _ in range(3)}
    assert len(again) == 1


def test_a_snapshot_this_plan_copies_counts_and_the_drill_waits_for_the_copy() -> None:
    c = ctx(entries("va", [30]))  # not in vb yet: due now, the plan copies it
    backups, _edges = plan_backups(c, {})
    actions, warnings = drill_actions(c, backups)
    create = next(a for a in backups if a.type == "backup.create")
    copy = next(a for a in backups if a.type == "backup.copy"
                and a.params["snapshot_id"] == create.params["snapshot_id"])
    assert actions[0].params["snapshot_id"] == create.params["snapshot_id"]
    assert actions[0].depends_on == (copy.id,)
    assert warnings == []


def test_a_snapshot_this_plan_prunes_is_never_chosen() -> None:
    prune = Action(id="backup.db/prune-vb", address="backup.db", type="backup.prune",
                   summary="", params={"series": "db", "repository": "vb",
                                       "deletes": [{"id": "db-2h"}]})
    actions, _ = drill_actions(ctx(entries("vb", [2, 30])), [prune])
    assert actions[0].params["snapshot_id"] == "db-30h"


def test_due_without_any_snapshot_is_a_warning_not_an_action() -> None:
    actions, warnings = drill_actions(ctx(entries("va", [2])))
    assert actions == []
    assert warnings and "no snapshot in vb" in warnings[0]


def test_a_scratch_target_that_is_a_declared_database_is_a_problem() -> None:
    loaded = spec(DRILL.replace("/scratch/d.db", "/d.db"))
    actions, _ = drill_actions(ctx(entries("vb", [2]), loaded=loaded))
    problems = actions[0].params["problems"]
    assert problems and "database.db itself" in problems[0]


def test_server_databases_compare_by_engine_host_port_and_name() -> None:
    text = BASE.replace("databases: {db: {engine: sqlite, path: /d.db}}",
                        "databases: {db: {engine: postgres, host: localhost, dbname: apim}}")
    drill = DRILL.replace("{engine: sqlite, path: /scratch/d.db}",
                          "{engine: postgres, host: 127.0.0.1, port: 5432, dbname: apim}")
    loaded = LoadedSpec(parse_environment([SourceFile("t.yaml", text + drill)]), Path("/spec"),
                        ("t.yaml",), "d")
    actions, _ = drill_actions(ctx(entries("vb", [2]), loaded=loaded))
    assert "database.db itself" in actions[0].params["problems"][0]


def test_a_drill_of_paths_into_a_database_is_a_problem() -> None:
    loaded = spec(DRILL.replace("backup: db", "backup: srv").replace("from: vb", "from: va"))
    c = PlanContext(spec=loaded, plan_id="p", now=NOW, observed={
        "backup.srv": ObservedResource(address="backup.srv", exists=True, facts={
            "catalog": catalog_to_data(entries("va", [2], series="srv"))})})
    actions, _ = plan_drills(c, [])
    assert any("must restore into a directory" in p for p in actions[0].params["problems"])


def test_checks_that_do_not_fit_the_target_are_spec_errors() -> None:
    bad = DRILL.replace('[{sql: "SELECT count(*) FROM t", expect: ">= 1"}]',
                        "[{files: [repository/conf]}]")
    with pytest.raises(SpecError, match="need a restored directory"):
        spec(bad)
    with pytest.raises(SpecError, match="is not a comparison"):
        spec(DRILL.replace('">= 1"', '"about one"'))


def test_desired_drill_names_what_it_restores_from_where_into_what() -> None:
    attrs = desired_drills(spec())["drill.d"].attributes
    assert attrs == {"backup": "db", "from": "vb", "into": "sqlite /scratch/d.db",
                     "every_seconds": 7 * 86400, "rto_seconds": 600}


def _doc_with(runs: list[dict] | None):
    doc = new_document("t")
    if runs is None:
        return doc
    record = ResourceRecord(kind="drill", name="d", data={"runs": runs})
    return doc.model_copy(update={"resources": {"drill.d": record}})


def test_findings_say_failed_overdue_or_never_run() -> None:
    loaded = spec()
    assert [f.status for f in drill_findings(_doc_with(None), loaded, NOW)] == ["never-run"]
    failed = drill_findings(_doc_with([run("db-2h", 1, passed=False)]), loaded, NOW)
    assert failed[0].status == "failed" and failed[0].last_run is not None
    assert "FAILED" in failed[0].message and "boom" in failed[0].message
    overdue = drill_findings(_doc_with([run("db-2h", 8 * 24)]), loaded, NOW)
    assert overdue[0].status == "overdue" and "overdue" in overdue[0].message
    assert drill_findings(_doc_with([run("db-2h", 1)]), loaded, NOW) == []


def test_a_failed_drill_is_a_warning_at_the_top_of_every_plan_until_one_passes() -> None:
    loaded = spec()
    failed = _doc_with([run("db-2h", 1), run("db-2h", 0.5, passed=False)])
    plan = make_plan(loaded, failed, None, plan_id="p1", now=NOW)
    assert plan.warnings[0].startswith("drill.d FAILED")
    assert failed_drill_warnings(drill_findings(failed, loaded, NOW)) == [plan.warnings[0]]
    passed = _doc_with([run("db-2h", 1, passed=False), run("db-2h", 0.5)])
    plan = make_plan(loaded, passed, None, plan_id="p2", now=NOW)
    assert not any("FAILED" in w for w in plan.warnings)
