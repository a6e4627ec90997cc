"""Markdown plan rendering for pull-request comments (pure, deterministic)."""

from __future__ import annotations

from engine.model import Plan
from engine.render.symbols import SYMBOLS, fmt
from engine.render.text import summary_line

LIMIT = 60_000


def render_markdown(plan: Plan, *, limit: int = LIMIT, full_plan_hint: str = "") -> str:
    """A PR comment: summary table, risky actions first, details collapsed, ≤ `limit` chars."""
    s = plan.summary
    head = [f"### drydock plan: `{plan.environment}`", "",
            "| add | change | replace | destroy | actions | drift |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {s.create} | {s.update} | {s.replace} | {s.delete} | {s.actions} | {s.drift} |",
            ""]
    risky = [a for a in plan.actions if a.risky]
    if risky:
        head += ["**Risky actions**", ""]
        head += [f"- ⚠️ `{a.type}` {a.summary}" for a in risky]
        head.append("")
    for w in plan.warnings:
        head.append(f"> warning: {w}")
    body = ["<details><summary>Changes</summary>", "", "```diff"]
    for c in plan.changes:
        body.append(f"{SYMBOLS[c.action]} {c.address} ({c.action}: {c.reason})")
        body.extend(f"    {d.name}: {fmt(d.before)} -> {fmt(d.after)}" for d in c.diffs)
        for fd in c.file_diffs:
            body.extend(fd.unified.rstrip("\n").splitlines())
    body += ["```", "</details>", "", "<details><summary>Actions</summary>", ""]
    body += [f"{i}. `{a.type}` {a.summary}" for i, a in enumerate(plan.actions, 1)]
    body += ["", "</details>", "", summary_line(plan)]
    text = "\n".join(head + body) + "\n"
    if len(text) <= limit:
        return text
    note = (f"\n_Plan truncated at {limit} characters; the full plan is "
            f"{full_plan_hint or 'in the plan artifact (drydock show PLANFILE)'}._\n")
    keep = "\n".join(head) + "\n"
    for line in body:
        if len(keep) + len(line) + len(note) + 30 > limit:
            break
        keep += line + "\n"
    if "```diff" in keep and keep.count("```") % 2 == 1:
        keep += "```\n"
    if keep.count("<details>") > keep.count("</details>"):
        keep += "</details>\n"
    return keep + note
