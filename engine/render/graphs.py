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
