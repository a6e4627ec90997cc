"""Render an action graph as Graphviz dot or Mermaid (pure)."""

from __future__ import annotations

from engine.contracts.models import Plan


def _label(text: str) -> str:
    return text.replace('"', "'")


def render_dot(plan: Plan) -> str:
    """`digraph` with one node per action, clustered by address."""
    out = ["digraph drydock {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for a in plan.actions:
        out.append(f'  "{a.id}" [label="{_label(a.type)}\\n{_label(a.address)}"];')
    for a in plan.actions:
        out.extend(f'  "{dep}" -> "{a.id}";' for dep in a.depends_on)
    out.append("}")
    return "\n".join(out) + "\n"


def render_mermaid(plan: Plan) -> str:
    """A Mermaid `flowchart LR` of the actions."""
    ids = {a.id: f"a{i}" for i, a in enumerate(plan.actions)}
    out = ["flowchart LR"]
    for a in plan.actions:
        out.append(f'  {ids[a.id]}["{_label(a.type)}<br/>{_label(a.address)}"]')
    for a in plan.actions:
        out.extend(f"  {ids[dep]} --> {ids[a.id]}" for dep in a.depends_on)
    return "\n".join(out) + "\n"


def graph_document(plan: Plan) -> dict[str, object]:
    """The graph as data: `{"plan", "nodes": [{id, type, address, summary}], "edges":
    [{from, to}]}`, nodes in plan order."""
    return {"plan": plan.id, "environment": plan.environment,
            "nodes": [{"id": a.id, "type": a.type, "address": a.address, "summary": a.summary}
                      for a in plan.actions],
            "edges": [{"from": dep, "to": a.id} for a in plan.actions for dep in a.depends_on]}
