"""Markdown plan rendering for pull-request comments (pure, deterministic, size-bounded).

Layout: a hidden marker (`<!-- drydock-plan:ENV -->`, so CI updates one comment), a
summary table, every risky item compactly ("Needs attention"), then collapsible details
(spec changes, drift, changes, actions). The comment never exceeds `limit` characters:
details are cut first and a closing line says where the full plan is; deletions and
prunes are never cut (they are listed before any detail and compacted if they must be).

Prune actions list the snapshots they delete in `params["deletes"]`; the summary table
counts them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from engine.contracts.models import Action, Plan
from engine.render.symbols import SYMBOLS, fmt
from engine.render.text import action_details, action_warnings, drill_lines, summary_line
from engine.specdiff import SpecDiff, headline, spec_diff_lines

LIMIT = 60_000
RISKY_SUFFIXES = (".delete", ".remove", ".destroy", ".drop", ".prune", ".stop", ".restore")
"""Action types ending like this are risky even when the planner did not flag them."""
DEFAULT_HINT = "in the saved plan file (`drydock show PLANFILE`)"
OPEN_SPEC_DIFF_LINES = 40
GROUP_SAMPLE = 20
CHUNK = 1000
_RESERVE = 600  # room kept for closing tags and the truncation note


def plan_marker(environment: str) -> str:
    """The hidden marker CI uses to find and update the plan comment of `environment`."""
    return f"<!-- drydock-plan:{environment} -->"


def is_risky(action: Action) -> bool:
    """Flagged by its planner, or a type that deletes, prunes, restores or stops."""
    return action.risky or action.type.endswith(RISKY_SUFFIXES) or "restore" in action.type


def _is_prune(action: Action) -> bool:
    return action.type.startswith("backup.prune")


def _inline(text: str) -> str:
    """Free text made safe inside markdown lines: one line, no raw HTML."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", " ").replace("\n", " "))


def fenced(lines: Sequence[str], lang: str = "diff") -> list[str]:
    """A fenced block longer than any backtick run inside it."""
    longest = 0
    for line in lines:
        run = 0
        for ch in line:
            run = run + 1 if ch == "`" else 0
            longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return [ticks + lang, *lines, ticks]


def _details(title: str, content: list[str], *, open_: bool = False) -> list[str]:
    tag = "<details open>" if open_ else "<details>"
    return [f"{tag}<summary>{_inline(title)}</summary>", "", *content, "", "</details>", ""]


def _snapshots(action: Action) -> int:
    listed = action.params.get("deletes", action.params.get("snapshots"))
    return len(listed) if isinstance(listed, list) else 0


def _deleted_ids(action: Action) -> str:
    listed = action.params.get("deletes")
    if not isinstance(listed, list) or not listed:
        return ""
    ids = [str(d.get("id")) if isinstance(d, dict) else str(d) for d in listed]
    return " (" + ", ".join(f"`{_inline(i)}`" for i in ids) + ")"


def summary_rows(plan: Plan) -> list[tuple[str, str]]:
    """The summary table: resource changes, then actions counted by type prefix."""
    changes = Counter(c.action for c in plan.changes)
    types = Counter(a.type for a in plan.actions)

    def prefixed(prefix: str) -> int:
        return sum(n for t, n in types.items() if t == prefix or t.startswith(prefix + "."))

    prunes = prefixed("backup.prune")
    snapshots = sum(_snapshots(a) for a in plan.actions if _is_prune(a))
    return [
        ("Resources to add", str(changes["create"])),
        ("Resources to change", str(changes["update"])),
        ("Resources to replace", str(changes["replace"])),
        ("Resources to remove", str(changes["delete"])),
        ("Backups to take (`backup.create`)", str(prefixed("backup.create"))),
        ("Backup copies (`backup.copy`)", str(prefixed("backup.copy"))),
        ("Prunes (`backup.prune`)", f"{prunes} ({snapshots} snapshots)" if snapshots
         else str(prunes)),
        ("Drills (`drill.*`)", str(sum(n for t, n in types.items() if t.startswith("drill.")))),
        ("Restores", str(sum(n for t, n in types.items() if "restore" in t))),
        ("Servers stopped (`server.stop`)", str(prefixed("server.stop"))),
        ("Drift (changed outside drydock)", str(len(plan.drift))),
        ("Actions", str(len(plan.actions))),
    ]


def _head(plan: Plan) -> list[str]:
    meta = [f"plan `{plan.id}`"]
    if plan.git.commit:
        where = f"{plan.git.branch or 'detached'}@{plan.git.commit[:10]}"
        meta.append(f"spec `{_inline(where)}`" + (" (uncommitted changes)" if plan.git.dirty
                                                   else ""))
    meta += [f"state serial {plan.state.serial}", f"made {plan.created_at.isoformat()}"]
    out = [plan_marker(plan.environment), f"### drydock plan: `{plan.environment}`", "",
           " · ".join(meta), "", "| | count |", "|---|---:|"]
    out += [f"| {label} | {value} |" for label, value in summary_rows(plan)]
    return [*out, ""]


def _must_keep(plan: Plan, compact: int) -> list[str]:
    """Deletions, replacements and prunes; `compact` 0 full, 1 grouped names, 2 bare names."""
    removed = [c for c in plan.changes if c.action in ("delete", "replace")]
    prunes = sorted((a for a in plan.actions if _is_prune(a)), key=lambda a: a.id)
    if compact == 0:
        out = [f"- **{c.action}** `{c.address}`: {_inline(c.reason)}" for c in removed]
        out += [f"- **prune** `{a.id}`: {_inline(a.summary)}{_deleted_ids(a)}" for a in prunes]
        return out
    groups: dict[str, list[str]] = defaultdict(list)
    for c in removed:
        groups[f"{c.action} {c.kind}"].append(c.address.split(".", 1)[1])
    for a in prunes:
        groups["prune"].append(a.id)
    sep, quote = (", ", "`") if compact == 1 else (" ", "")
    out = []
    for label, names in groups.items():
        line = f"- **{label}** ({len(names)}):"
        for name in names:  # long groups wrap into several list items
            if len(line) > CHUNK:
                out.append(line)
                line = f"- **{label}** (continued):"
            line += (" " if line.endswith(":") else sep) + f"{quote}{name}{quote}"
        out.append(line)
    return out


def _other_risky(plan: Plan, grouped: bool) -> list[str]:
    risky = [a for a in plan.actions if is_risky(a) and not _is_prune(a)]
    if not grouped:
        return [f"- ⚠️ `{a.type}` {_inline(a.summary)}" for a in risky]
    by_type: dict[str, list[str]] = defaultdict(list)
    for a in risky:
        by_type[a.type].append(a.address)
    out = []
    for type_, addresses in sorted(by_type.items()):
        sample = ", ".join(f"`{x}`" for x in addresses[:GROUP_SAMPLE])
        more = f" and {len(addresses) - GROUP_SAMPLE} more" if len(addresses) > GROUP_SAMPLE \
            else ""
        out.append(f"- ⚠️ `{type_}` × {len(addresses)}: {sample}{more}")
    return out


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _attention(plan: Plan, budget: int) -> list[str]:
    """The risky items, compacted until they fit `budget` characters (deletions and prunes
    are compacted rather than cut; other risky actions are grouped by type)."""
    must: list[str] = []
    for level in (0, 1, 2):
        must = _must_keep(plan, level)
        if _size(must) <= budget * 3 // 4:
            break
    other = _other_risky(plan, grouped=False)
    if _size(must) + _size(other) > budget:
        other = _other_risky(plan, grouped=True)
    items = must + other
    if not items:
        return []
    title = ["#### ⚠️ Needs attention", ""]
    if _size(title) + _size(items) + 1 <= budget:
        return [*title, *items, ""]
    kept: list[str] = []
    for item in items:  # last resort: even the bare names do not fit
        if _size(title) + _size(kept) + len(item) + 80 > budget:
            break
        kept.append(item)
    more = f"- … {len(items) - len(kept)} more risky items: see the full plan"
    return [*title, *kept, more, ""]


def _body(plan: Plan, spec_diff: SpecDiff | None) -> list[str]:
    out: list[str] = []
    if spec_diff is not None:
        lines = spec_diff_lines(spec_diff)
        out += _details(headline(spec_diff), fenced(lines),
                        open_=len(lines) <= OPEN_SPEC_DIFF_LINES)
    warnings = list(dict.fromkeys([*plan.warnings, *action_warnings(plan)]))
    out += [f"> warning: {_inline(w)}" for w in warnings]
    if warnings:
        out.append("")
    if plan.drift:
        lines = []
        for d in plan.drift:
            lines.append(f"! {d.address} ({d.reason})")
            lines += [f"    {a.name}: recorded {fmt(a.before)}, now {fmt(a.after)}"
                      for a in d.diffs]
        out += _details(f"Drift ({len(plan.drift)})", fenced(lines))
    if plan.changes:
        lines = []
        for c in plan.changes:
            lines.append(f"{SYMBOLS[c.action]} {c.address} ({c.action}: {c.reason})")
            lines += [f"    {d.name}: {fmt(d.before)} -> {fmt(d.after)}" for d in c.diffs]
            for fd in c.file_diffs:
                lines += fd.unified.rstrip("\n").splitlines()
        out += _details(f"Changes ({len(plan.changes)})", fenced(lines))
    if plan.actions:
        lines = []
        for i, a in enumerate(plan.actions, 1):
            lines.append(f"{i}. {'⚠️ ' if is_risky(a) else ''}`{a.type}` {_inline(a.summary)}")
            indent = " " * len(f"{i}. ")  # nested under the numbered item
            lines += [f"{indent}- {_inline(line)}"
                      for line in (*action_details(a), *drill_lines(a))]
        out += _details(f"Actions, in order ({len(plan.actions)})", lines)
    if not plan.changes and not plan.actions:
        out += ["No changes. The environment matches the spec.", ""]
    return [*out, summary_line(plan)]


def _closers(fence: str | None, depth: int) -> list[str]:
    return ([fence] if fence else []) + ["", "</details>"] * depth


def _fit(fixed: list[str], body: list[str], limit: int, hint: str) -> str:
    """`fixed` then as much of `body` as fits, with open fences and details closed."""
    total = _size(fixed) + _size(body)
    if total <= limit:
        return "\n".join(fixed + body) + "\n"
    kept = list(fixed)
    used = _size(kept)
    fence: str | None = None
    depth = 0
    shown = 0
    for line in body:
        nfence, ndepth = fence, depth
        if fence is None and line.startswith("```"):
            nfence = line[: len(line) - len(line.lstrip("`"))]
        elif fence is not None and line == fence:
            nfence = None
        elif fence is None and line.startswith("<details"):
            ndepth += 1
        elif fence is None and line == "</details>":
            ndepth -= 1
        if used + len(line) + 1 + _size(_closers(nfence, ndepth)) + _RESERVE > limit:
            break
        kept.append(line)
        used += len(line) + 1
        fence, depth, shown = nfence, ndepth, shown + 1
    kept += _closers(fence, depth)
    kept += ["", f"_Plan truncated to stay under {limit} characters ({shown} of {len(body)} "
                 f"detail lines shown). The full plan is {hint}._"]
    return "\n".join(kept) + "\n"


def render_markdown(plan: Plan, *, spec_diff: SpecDiff | None = None, limit: int = LIMIT,
                    full_plan_hint: str = "") -> str:
    """A pull-request comment for `plan`, at most `limit` characters.

    Takes the plan, optionally the branch's spec diff (shown before the details), and a
    hint saying where the full plan is (a URL or artifact name) for the truncation note.
    Returns markdown; the same input always gives the same text.
    """
    hint = full_plan_hint or DEFAULT_HINT
    head = _head(plan)
    attention = _attention(plan, max(0, limit - _size(head) - _RESERVE))
    return _fit(head + attention, _body(plan, spec_diff), limit, hint)
