"""Build and check the action graph of a plan with networkx (pure).

Built by a short list of steps, each with one job: one node per action, edges for
declared dependencies, rollout-group serialisation, then an acyclicity check that
turns networkx's cycle into drydock's own error naming it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from engine.contracts.models import Action

if TYPE_CHECKING:  # networkx is imported by the functions that use it, not by every command
    import networkx as nx


class GraphError(ValueError):
    """The actions cannot be ordered (a cycle, or a dependency on a missing action)."""


def add_nodes(graph: nx.DiGraph, actions: Sequence[Action]) -> None:
    """One node per action, keyed by its id; duplicate ids are an error."""
    for action in actions:
        if action.id in graph:
            raise GraphError(f"two actions share the id {action.id!r}")
        graph.add_node(action.id, action=action)


def add_dependency_edges(graph: nx.DiGraph, actions: Sequence[Action]) -> None:
    """An edge dep -> action for every declared dependency."""
    for action in actions:
        for dep in action.depends_on:
            if dep not in graph:
                raise GraphError(f"{action.id} depends on {dep!r}, which is not in the plan")
            graph.add_edge(dep, action.id)


def serialise_rollout_groups(
    graph: nx.DiGraph, actions: Sequence[Action], max_unavailable: Mapping[str, int]
) -> list[tuple[str, ...]]:
    """Servers of one group change at most `max_unavailable` at a time.

    Each server's first action waits for the last action (its health check) of the
    server `max_unavailable` places before it, in address order. Returns the order of
    each group's addresses for display.
    """
    by_group: dict[str, dict[str, list[Action]]] = defaultdict(dict)
    for action in actions:
        if action.group is not None:
            by_group[action.group].setdefault(action.address, []).append(action)
    orders = []
    for group, members in sorted(by_group.items()):
        order = sorted(members)
        width = max(1, max_unavailable.get(group, 1))
        for i in range(width, len(order)):
            first = members[order[i]][0].id
            last = members[order[i - width]][-1].id
            graph.add_edge(last, first)
        orders.append((group, *order))
    return orders


def check_acyclic(graph: nx.DiGraph) -> None:
    """Raise GraphError naming the actions of a cycle, if there is one."""
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
    raise GraphError(f"the actions form a cycle: {names}")


def add_extra_edges(graph: nx.DiGraph, edges: Sequence[tuple[str, str]]) -> None:
    """Edges planners ask for across resources (e.g. a server change after its backup)."""
    for before, after in edges:
        for node in (before, after):
            if node not in graph:
                raise GraphError(f"an ordering names {node!r}, which is not in the plan")
        graph.add_edge(before, after)


def build_graph(
    actions: Sequence[Action], max_unavailable: Mapping[str, int] | None = None,
    extra_edges: Sequence[tuple[str, str]] = (),
) -> nx.DiGraph:
    """The checked action DAG: nodes carry their Action under the `action` key."""
    import networkx as nx

    graph: nx.DiGraph = nx.DiGraph()
    add_nodes(graph, actions)
    add_dependency_edges(graph, actions)
    add_extra_edges(graph, extra_edges)
    serialise_rollout_groups(graph, actions, max_unavailable or {})
    check_acyclic(graph)
    return graph


def with_graph_dependencies(actions: Sequence[Action], graph: nx.DiGraph) -> list[Action]:
    """Actions in a stable topological order, their `depends_on` completed from the graph."""
    import networkx as nx

    index = {a.id: i for i, a in enumerate(actions)}
    order = nx.lexicographical_topological_sort(graph, key=lambda n: index[n])
    out = []
    for node in order:
        action: Action = graph.nodes[node]["action"]
        deps = tuple(sorted(graph.predecessors(node), key=index.__getitem__))
        out.append(action if deps == action.depends_on else action.model_copy(
            update={"depends_on": deps}))
    return out
