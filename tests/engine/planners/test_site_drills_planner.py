"""Site drills, data in and data out: the scratch view the rehearsal plans against, when
a site drill is due, the one action carrying the recovery's steps, what the spec refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.contracts.models import Action
from engine.planners.base import PlanContext
from engine.planners.recover import RecoveryPoint, plan_recover, recovery_scope
from engine.planners.site_drills import Rehearsal, desired_site_drills, plan_site_drills
from engine.spec.errors import SpecError
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from engine.spec.scratch_view import scratch_view
from state.document import new_document
from tests.engine.planners.test_recover_planner import NOW, SPEC, snap

DRILL = """\
drills:
  site-dr: {site: dr, every: 30d, rto: 1h, into: {root: scratch},
            verify: [{sql: "SELECT 1", expect: "= 1"}]}
"""


def spec(extra: str = DRILL) -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC + extra)]), Path("/spec"),
                      ("t.yaml",), "d")


def test_the_scratch_view_moves_the_site_hosts_and_the_mapped_databases_only() -> None:
    view = scratch_view(spec(), "site-dr")
    assert view.env.hosts["b"].root == "/d/scratch/b"
    assert view.env.hosts["a"].root == "/p"
    assert view.env.databases["db_dr"].path == "/d/db.drill-site-dr.sqlite"
    assert view.env.databases["db"].path == "/p/db.sqlite"
    assert view.env.servers == spec().env.servers


def test_the_scratch_view_never_rehearses_a_failback() -> None:
    failback = SPEC.replace("    databases: {db: db_dr}\n",
                            "    databases: {db: db_dr}\n    failback: true\n")
    loaded = LoadedSpec(parse_environment([SourceFile("t.yaml", failback + DRILL)]),
                        Path("/spec"), ("t.yaml",), "d")
    assert loaded.env.recover["dr"].failback is True
    view = scratch_view(loaded, "site-dr")
    assert view.env.recover["dr"].failback is False
    assert view.env.recover["dr"].hosts == loaded.env.recover["dr"].hosts


def test_the_rehearsal_is_the_recovery_planned_against_the_view() -> None:
    view = scratch_view(spec(), "site-dr")
    chosen = {"db": snap("db", "s1", 2), "gw-runtime": snap(
        "gw-runtime", "g1", 1, kind="paths", facts={"update_level": 5,
                                                   "patches": ["patch0001"]})}
    recovery = plan_recover(view, new_document("t"), recovery_scope(view, "dr"), chosen,
                            pack_levels={"wso2am-4.2.0": 3}, digests={}, plan_id="p", now=NOW)
    ctx = PlanContext(spec=spec(), plan_id="p1", now=NOW)
    actions, warnings = plan_site_drills(ctx, {"site-dr": Rehearsal(
        drill="site-dr", steps=recovery.plan.actions, points=recovery.points)})
    assert warnings == [] and [a.type for a in actions] == ["drill.site", "drill.verdict"]
    params = actions[0].params
    assert params["roots"] == [{"host": "b", "path": "/d/scratch/b", "parent": "/d/scratch"}]
    assert params["databases"] == ["db_dr"] and params["problems"] == []
    assert params["snapshots"] == ["db/s1", "gw-runtime/g1"]
    homes = {s["params"]["home"] for s in params["steps"] if "home" in s["params"]}
    assert homes == {"/d/scratch/b/opt/gw", "/d/scratch/b/opt/plain"}
    assert "rebuild and health-check gw, plain" in actions[0].summary


def test_a_due_drill_without_snapshots_waits_and_one_that_passed_recently_is_not_due() -> None:
    ctx = PlanContext(spec=spec(), plan_id="p1", now=NOW)
    actions, warnings = plan_site_drills(ctx, {"site-dr": Rehearsal(drill="site-dr")})
    assert actions == [] and "holds no snapshot to recover from yet" in warnings[0]
    passed = {"snapshot": "x", "repository": "dv", "started": NOW.isoformat(),
              "finished": NOW.isoformat(), "seconds": 1, "rto_seconds": 3600,
              "within_rto": True, "passed": True}
    ctx = PlanContext(spec=spec(), plan_id="p1", now=NOW,
                      recorded_data={"drill.site-dr": {"runs": [passed]}})
    point = RecoveryPoint(policy="db", target="database.db_dr", snapshot="s", repository="dv",
                          created=NOW, age_seconds=0)
    assert plan_site_drills(ctx, {"site-dr": Rehearsal(drill="site-dr", points=(point,))}) == (
        [], [])


def test_steps_a_rehearsal_cannot_run_are_its_problems() -> None:
    ctx = PlanContext(spec=spec(), plan_id="p1", now=NOW)
    launch = Action(id="h/launch", address="host.b", type="ec2.launch", summary="launch")
    point = RecoveryPoint(policy="db", target="database.db_dr", snapshot="s", repository="dv",
                          created=NOW, age_seconds=0)
    actions, _ = plan_site_drills(ctx, {"site-dr": Rehearsal(drill="site-dr", steps=(launch,),
                                                             points=(point,))})
    assert "needs ec2.launch, which a site drill does not rehearse" in \
        actions[0].params["problems"][0]


def test_desired_resource_names_site_and_schedule() -> None:
    assert desired_site_drills(spec())["drill.site-dr"].attributes == {
        "site": "dr", "into": "root scratch", "every_seconds": 2592000, "rto_seconds": 3600}


@pytest.mark.parametrize("drill, message", [
    ("{site: dr, every: 30d, into: {root: s}, backup: db}", "no 'backup' or 'from'"),
    ("{site: dr, every: 30d, into: {directory: s}}", "needs 'into: {root: PATH}'"),
    ("{site: dr, every: 30d, into: {root: s}, verify: [{files: [a]}]}", "runs 'sql' checks"),
    ("{site: nowhere, every: 30d, into: {root: s}}", "unknown site 'nowhere'"),
    ("{site: primary, every: 30d, into: {root: s}}", "no recover mapping to rehearse"),
    ("{site: dr, every: 30d, into: {root: ../s}}", "may not contain '..'"),
    ("{backup: db, every: 30d, into: {root: s}}", "is for site drills"),
    ("{every: 30d, into: {directory: s}}", "needs 'backup'"),
])
def test_the_spec_refuses_site_drills_that_cannot_work(drill: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        spec(f"drills:\n  x: {drill}\n")
