"""What a plan makes of the traces a SIGKILLed apply leaves, data in and data out: a
server it stopped, a pack replacement cut between its renames, a snapshot folder whose
writer is gone, a catalog the state never recorded, a drill it died in."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engine.contracts.catalog import catalog_to_data
from engine.planners.backups import plan_backups
from engine.planners.base import PlanContext
from engine.planners.drills import plan_drills
from engine.planning import make_plan
from state.document import new_document
from tests.engine.planners.test_backups_planner import NOW as BNOW
from tests.engine.planners.test_backups_planner import by_type, ctx, entries
from tests.engine.planners.test_drills_planner import ctx as drill_ctx
from tests.engine.planners.test_drills_planner import entries as drill_entries
from tests.engine.planners.test_server_planner import NOW, seen, server, spec_of


def test_a_server_a_crashed_apply_stopped_is_started_and_checked():
    spec = spec_of(server("gw-1"))
    up_to_date = {"server.gw-1": seen("gw-1", 14)}
    made = make_plan(spec, new_document("t"), lambda _d: up_to_date, plan_id="P1", now=NOW,
                     stopped=frozenset({"server.gw-1"}))
    assert [a.id for a in made.actions] == ["server.gw-1/start", "server.gw-1/health"]
    [change] = made.changes
    assert change.reason == "service is not running: start it and check its health"
    quiet = make_plan(spec, new_document("t"), lambda _d: up_to_date, plan_id="P1", now=NOW)
    assert list(quiet.actions) == []


def test_a_server_whose_pid_file_names_a_dead_process_is_started():
    spec = spec_of(server("gw-1"), server("gw-2", service=False))
    observed = {"server.gw-1": seen("gw-1", 14, {"service_died": True}),
                "server.gw-2": seen("gw-2", 14, {"service_died": True})}
    made = make_plan(spec, new_document("t"), lambda _d: observed, plan_id="P1", now=NOW)
    assert [a.id for a in made.actions] == ["server.gw-1/start", "server.gw-1/health"]


def test_a_cut_pack_replacement_is_finished_before_anything_else():
    spec = spec_of(server("gw-2", level=12, extra="    strategy: replace\n"))
    observed = {"server.gw-2": seen("gw-2", 12, {"interrupted_swap": "OLDPLAN"})}
    made = make_plan(spec, new_document("t"), lambda _d: observed, plan_id="P1", now=NOW,
                     stopped=frozenset({"server.gw-2"}))
    ids = [a.id.split("/")[1] for a in made.actions]
    assert ids == ["finish-swap", "backup", "stop", "start", "health"]
    first = made.actions[0]
    assert first.type == "server.replace-pack" and first.params["plan_id"] == "OLDPLAN"
    assert first.params["to_level"] == 12
    assert made.changes[0].reason.startswith("a pack replacement was cut between its renames")


def _with_leftovers(context: PlanContext, found: dict) -> PlanContext:
    observed = context.observed["backup.db"]
    context.observed["backup.db"] = observed.model_copy(
        update={"facts": {**observed.facts, "leftovers": found}})
    return context


def test_a_leftover_whose_writer_is_gone_is_cleaned_up_without_waiting():
    context = _with_leftovers(ctx({"db": entries("va", "db", [1]) + entries("vb", "db", [1])}),
                              {"va": [{"id": "killed", "writer_gone": True,
                                       "modified": (BNOW - timedelta(minutes=1)).isoformat()},
                                      {"id": "live", "writer_gone": False,
                                       "modified": (BNOW - timedelta(minutes=1)).isoformat()}]})
    [cleanup] = by_type(plan_backups(context, {})[0], "backup.cleanup")
    assert cleanup.params["leftovers"] == ["killed"]


def test_a_catalog_the_state_never_recorded_is_recorded_for_untouched_repositories():
    held = entries("va", "db", [1]) + entries("vb", "db", [1])
    context = ctx({"db": held})
    stale = catalog_to_data(entries("va", "db", [30]) + entries("vb", "db", [1]))
    context.recorded_data["backup.db"] = {"catalog": stale}
    [catalog] = by_type(plan_backups(context, {})[0], "backup.catalog")
    assert catalog.params["catalog"] == {"va": catalog_to_data(held)["va"]}
    assert "va hold(s) other snapshots than the state lists" in catalog.summary
    context.recorded_data["backup.db"] = {"catalog": catalog_to_data(held)}
    assert not by_type(plan_backups(context, {})[0], "backup.catalog")
    fresh = ctx({"db": held})  # nothing recorded yet: the first action records it
    assert not by_type(plan_backups(fresh, {})[0], "backup.catalog")


def test_a_drill_a_crashed_apply_died_in_clears_its_scratch_first():
    catalog = drill_entries("vb", [2])
    [run, _verdict] = plan_drills(drill_ctx(catalog), [])[0]
    assert run.params["clear_scratch"] is False
    died = replace(drill_ctx(catalog), interrupted=frozenset({run.id}))
    [again, _verdict] = plan_drills(died, [])[0]
    assert again.params["clear_scratch"] is True
