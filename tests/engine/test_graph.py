"""graph: nodes, dependency edges, rollout serialisation and cycle errors."""

from __future__ import annotations

import pytest

from engine.contracts.models import Action
from engine.graph import GraphError, build_graph, with_graph_dependencies


def act(id_: str, deps: tuple[str, ...] = (), group: str | None = None) -> Action:
    return Action(id=id_, address=id_.split("/")[0], type="t", summary=id_,
                  depends_on=deps, group=group)


def chain(server: str, group: str) -> list[Action]:
    return [act(f"server.{server}/stop", group=group),
            act(f"server.{server}/health", (f"server.{server}/stop",), group=group)]


def test_cycle_is_an_error_naming_it() -> None:
    with pytest.raises(GraphError, match="cycle: a/1 -> b/1 -> a/1|cycle: b/1 -> a/1 -> b/1"):
        build_graph([act("a/1", ("b/1",)), act("b/1", ("a/1",))])


def test_unknown_dependency_is_an_error() -> None:
    with pytest.raises(GraphError, match="not in the plan"):
        build_graph([act("a/1", ("zz/9",))])


def test_duplicate_ids_are_an_error() -> None:
    with pytest.raises(GraphError, match="share the id"):
        build_graph([act("a/1"), act("a/1")])


def test_rollout_group_one_at_a_time() -> None:
    actions = chain("g1", "gw") + chain("g2", "gw") + chain("g3", "gw")
    graph = build_graph(actions, {"gw": 1})
    assert graph.has_edge("server.g1/health", "server.g2/stop")
    assert graph.has_edge("server.g2/health", "server.g3/stop")


def test_rollout_group_two_at_a_time() -> None:
    actions = chain("g1", "gw") + chain("g2", "gw") + chain("g3", "gw")
    graph = build_graph(actions, {"gw": 2})
    assert not graph.has_edge("server.g1/health", "server.g2/stop")
    assert graph.has_edge("server.g1/health", "server.g3/stop")


def test_topological_order_is_stable_and_dependencies_completed() -> None:
    actions = chain("g2", "gw") + chain("g1", "gw")
    ordered = with_graph_dependencies(actions, build_graph(actions, {"gw": 1}))
    ids = [a.id for a in ordered]
    assert ids.index("server.g1/health") < ids.index("server.g2/stop")
    g2_stop = next(a for a in ordered if a.id == "server.g2/stop")
    assert g2_stop.depends_on == ("server.g1/health",)
