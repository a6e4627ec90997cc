"""The one plan assembler: rollout groups serialised, dependencies completed, problems
turned into warnings once, the same for ordinary and restore plans (data in, data out)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.contracts.models import Action
from engine.planners.assemble import PlanError, assemble_plan, rollout_groups, server_group
from engine.planners.base import Chain
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import new_document

SPEC = """\
environment: t
sites: {a: {}}
hosts: {h: {site: a, root: /srv}}
products: {wso2am-4.2.0: {pack: /p.zip, updates: /u, patches: /pt}}
servers:
  gw-1: {host: h, product: wso2am-4.2.0, home: opt/gw-1, update_level: 3,
         rollout: {group: gateways, max_unavailable: 1}}
  gw-2: {host: h, product: wso2am-4.2.0, home: opt/gw-2, update_level: 3,
         rollout: {group: gateways, max_unavailable: 1}}
  km: {host: h, product: wso2am-4.2.0, home: opt/km, update_level: 3}
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec() -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC)]), Path("/spec"),
                      ("t.yaml",), "d")


def chain(loaded: LoadedSpec, server: str, problems: list[str] | None = None) -> list[Action]:
    c = Chain(f"server.{server}", transaction=True, group=server_group(loaded, server))
    c.add("stop", "server.stop", f"stop {server}", {"problems": problems or []})
    c.add("start", "server.start", f"start {server}")
    return c.actions


def test_servers_of_one_group_wait_for_each_other_and_others_do_not() -> None:
    loaded = spec()
    assert rollout_groups(loaded) == {"gateways": 1}
    actions = [*chain(loaded, "gw-2"), *chain(loaded, "gw-1"), *chain(loaded, "km")]
    plan = assemble_plan(loaded, new_document("t"), actions, plan_id="p", now=NOW)
    deps = {a.id: a.depends_on for a in plan.actions}
    assert deps["server.gw-2/stop"] == ("server.gw-1/start",)
    assert deps["server.gw-1/stop"] == ()
    assert deps["server.km/stop"] == ()
    assert plan.summary.actions == 6


def test_problems_become_warnings_once_and_a_cycle_is_a_plan_error() -> None:
    loaded = spec()
    actions = chain(loaded, "km", ["home is not empty"])
    plan = assemble_plan(loaded, new_document("t"), actions, plan_id="p", now=NOW,
                         warnings=["w", "w"])
    assert plan.warnings == ("w", "server.km/stop: home is not empty")
    looped = [actions[0].model_copy(update={"depends_on": ("server.km/start",)}), actions[1]]
    with pytest.raises(PlanError, match="cycle"):
        assemble_plan(loaded, new_document("t"), looped, plan_id="p", now=NOW)
