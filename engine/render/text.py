"""Plain-text plan rendering, Terraform-like: symbols, attribute diffs, unified diffs (pure)."""

from __future__ import annotations

from engine.contracts.models import Action, Change, Drift, Plan
from engine.render.symbols import SYMBOLS, fmt

DETAIL_LINES = 4


def _change_lines(change: Change) -> list[str]:
    sym = SYMBOLS[change.action]
    lines = [f"  {sym} {change.address}  ({change.action}: {change.reason})"]
    for d in change.diffs:
        if d.before is None and change.action == "create":
            lines.append(f"      + {d.name} = {fmt(d.after)}")
        elif change.action == "delete":
            lines.append(f"      - {d.name} = {fmt(d.before)}")
        else:
            lines.append(f"      ~ {d.name}: {fmt(d.before)} → {fmt(d.after)}")
    for fd in change.file_diffs:
        lines.extend("        " + line for line in fd.unified.rstrip("\n").splitlines())
    return lines


def _drift_lines(drift: Drift) -> list[str]:
    lines = [f"  ! {drift.address}  ({drift.reason})"]
    for d in drift.diffs:
        lines.append(f"      ~ {d.name}: recorded {fmt(d.before)}, now {fmt(d.after)}")
    for fd in drift.file_diffs:
        lines.extend("        " + line for line in fd.unified.rstrip("\n").splitlines())
    return lines


INSTRUCTION_LINES = 12


def action_details(action: Action) -> list[str]:
    """Under a level change: the files it adds (+), modifies (~) and removes (-), capped,
    the conflicts it overwrites, notes (a package named unlike its descriptor), the
    package's or patch's instructions, and any problem that will stop it; under a prune: every
    snapshot it deletes with the rule that no longer keeps it, then what it keeps and why
    (capped); under an artifact prune, every archive it deletes."""
    p = action.params
    rows = [f"{sym} {path}" for sym, key in (("+", "added"), ("~", "modified"), ("-", "removed"))
            for path in p.get(key) or []]
    out = rows[:DETAIL_LINES]
    if len(rows) > DETAIL_LINES:
        out.append(f"… {len(rows) - DETAIL_LINES} more")
    out += [f"overwrites conflicting {c}" for c in (p.get("overwrites") or [])[:DETAIL_LINES]]
    out += [f"note: {n}" for n in p.get("notes") or []]
    steps = [line for line in str(p.get("instructions") or "").splitlines() if line.strip()]
    out += [f"instructions: {line.strip()}" for line in steps[:INSTRUCTION_LINES]]
    if len(steps) > INSTRUCTION_LINES:
        out.append(f"instructions: … {len(steps) - INSTRUCTION_LINES} more lines in the "
                   "package's or patch's own text")
    out += [f"! {problem}" for problem in p.get("problems") or []]
    # Every snapshot a prune deletes is listed, never capped: deletions are what reviewers
    # must see.
    out += [f"- {d.get('id')}" + (f" ({d['created']})" if d.get("created") else "")
            + f": {d.get('reason')}" for d in p.get("deletes") or []]
    keeps = p.get("keeps") or [] if p.get("deletes") else []
    out += [f"= {k.get('id')}: kept ({', '.join(k.get('reasons') or [])})"
            for k in keeps[:DETAIL_LINES]]
    if len(keeps) > DETAIL_LINES:
        out.append(f"… {len(keeps) - DETAIL_LINES} more kept")
    out += [f"- artifact {sha[:12]}" for sha in p.get("unused") or []]
    return out


def drill_lines(action: Action) -> list[str]:
    """Under a drill run: the snapshot's time and each check it will run."""
    if action.type != "drill.run":
        return []
    from engine.spec.data import DrillCheck

    p = action.params
    return [f"snapshot taken {p.get('snapshot_created')}"] + [
        f"check: {DrillCheck.model_validate(c).describe()}" for c in p.get("checks") or []]


def rollout_positions(plan: Plan) -> dict[str, tuple[str, int, int]]:
    """address -> (group, position, group size), in the order the rollout serialises."""
    groups: dict[str, set[str]] = {}
    for a in plan.actions:
        if a.group is not None:
            groups.setdefault(a.group, set()).add(a.address)
    return {address: (group, i, len(members)) for group, members in groups.items()
            for i, address in enumerate(sorted(members), 1)}


def action_warnings(plan: Plan) -> list[str]:
    """Problems the planned actions carry (missing packages, conflicts, ...), one per line."""
    return [f"{a.id}: {problem}" for a in plan.actions for problem in a.params.get("problems")
            or []]


def summary_line(plan: Plan) -> str:
    """`Plan: 1 to add, 2 to change, 0 to replace, 0 to destroy; 9 actions.`"""
    s = plan.summary
    data = [f"{n} {label}" for label, n in (
        ("backups", s.by_type.get("backup.create", 0)),
        ("copies", s.by_type.get("backup.copy", 0)),
        ("snapshots to delete", sum(len(a.params.get("deletes") or []) for a in plan.actions)),
        ("drills", s.by_type.get("drill.run", 0))) if n]
    return (f"Plan: {s.create} to add, {s.update} to change, {s.replace} to replace, "
            f"{s.delete} to destroy; {s.actions} action{'' if s.actions == 1 else 's'}"
            + (f" ({', '.join(data)})." if data else "."))


def render_text(plan: Plan) -> str:
    """The whole plan as text: warnings, drift, changes, ordered actions, summary."""
    out = [f"drydock plan {plan.id} for environment {plan.environment!r}"
           f" (state serial {plan.state.serial})"]
    if plan.git.commit:
        out.append(f"spec at {plan.git.branch or 'detached'}@{plan.git.commit[:10]}"
                   + (" (uncommitted changes)" if plan.git.dirty else ""))
    for w in dict.fromkeys([*plan.warnings, *action_warnings(plan)]):
        out.append(f"warning: {w}")
    if plan.drift:
        out += ["", "Drift (changed outside drydock):"]
        for d in plan.drift:
            out += _drift_lines(d)
    if not plan.changes and not plan.actions:
        out += ["", "No changes. The environment matches the spec."]
        return "\n".join(out) + "\n"
    if plan.changes:
        out += ["", "Changes:"]
    for c in plan.changes:
        out += _change_lines(c)
    if plan.actions:
        out += ["", "Actions, in order:"]
        positions = rollout_positions(plan)
        for i, a in enumerate(plan.actions, 1):
            risky = "  [!]" if a.risky else ""
            after = f"  (after {', '.join(a.depends_on)})" if a.depends_on else ""
            out.append(f"  {i:3d}. {a.type:<22} {a.summary}{risky}{after}")
            group = positions.pop(a.address, None)
            if group is not None:
                out.append(f"         rollout group {group[0]}: server {group[1]} of {group[2]}")
            out.extend(f"         {line}" for line in action_details(a))
            out.extend(f"         {line}" for line in drill_lines(a))
            for step in a.compensation:
                out.append(f"         on failure: {step.summary}")
    out += ["", summary_line(plan)]
    return "\n".join(out) + "\n"


def render_drift_text(drift: list[Drift], environment: str) -> str:
    """The drift report as text."""
    if not drift:
        return f"No drift in {environment!r}: the world matches the recorded state.\n"
    out = [f"Drift in {environment!r}: {len(drift)} resource(s) changed outside drydock", ""]
    for d in drift:
        out += _drift_lines(d)
    return "\n".join(out) + "\n"
