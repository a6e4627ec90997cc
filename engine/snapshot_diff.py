"""Compare two snapshots' contents, as `restic diff` does (pure).

Members are matched by path: `+` added, `-` removed, `M` content or size changed, `T`
kind changed (file/dir/symlink), `U` only the mode or a link target changed. Source facts
(update level, patches) are compared too, and parts when neither holds a tar.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from engine.contracts.facts import SnapshotContents, SnapshotEntry


class DiffLine(BaseModel):
    """One path that differs."""

    model_config = ConfigDict(frozen=True)

    change: Literal["+", "-", "M", "T", "U"]
    path: str
    type: str
    size_before: int | None = None
    size_after: int | None = None


class FactChange(BaseModel):
    """One source fact that differs (e.g. update_level 3 -> 4)."""

    model_config = ConfigDict(frozen=True)

    name: str
    before: Any = None
    after: Any = None


class SnapshotDiff(BaseModel):
    """`backups diff A B`: what B holds that A did not, and the other way round."""

    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    changes: tuple[DiffLine, ...] = ()
    facts: tuple[FactChange, ...] = ()
    added: int = 0
    removed: int = 0
    modified: int = 0
    bytes_added: int = 0
    bytes_removed: int = 0


def _change(old: SnapshotEntry, new: SnapshotEntry) -> str | None:
    if old.type != new.type:
        return "T"
    if (old.sha256, old.size) != (new.sha256, new.size):
        return "M"
    if (old.mode, old.target) != (new.mode, new.target):
        return "U"
    return None


def diff_snapshots(a: SnapshotContents, b: SnapshotContents) -> SnapshotDiff:
    """The differences from `a` to `b`, sorted by path."""
    before = {e.path: e for e in a.entries}
    after = {e.path: e for e in b.entries}
    if not before and not after:  # dumps: compare the parts
        before = {p.name: SnapshotEntry(path=p.name, type="file", size=p.raw_size,
                                        sha256=p.sha256) for p in a.parts}
        after = {p.name: SnapshotEntry(path=p.name, type="file", size=p.raw_size,
                                       sha256=p.sha256) for p in b.parts}
    lines: list[DiffLine] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old is None and new is not None:
            lines.append(DiffLine(change="+", path=path, type=new.type, size_after=new.size))
        elif new is None and old is not None:
            lines.append(DiffLine(change="-", path=path, type=old.type, size_before=old.size))
        elif old is not None and new is not None and (kind := _change(old, new)):
            lines.append(DiffLine(change=kind, path=path, type=new.type,  # type: ignore[arg-type]
                                  size_before=old.size, size_after=new.size))
    fa, fb = a.snapshot.facts, b.snapshot.facts
    facts = tuple(FactChange(name=k, before=fa.get(k), after=fb.get(k))
                  for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k))
    return SnapshotDiff(
        a=a.snapshot.label, b=b.snapshot.label, changes=tuple(lines), facts=facts,
        added=sum(1 for x in lines if x.change == "+"),
        removed=sum(1 for x in lines if x.change == "-"),
        modified=sum(1 for x in lines if x.change in "MTU"),
        bytes_added=sum(x.size_after or 0 for x in lines if x.change == "+"),
        bytes_removed=sum(x.size_before or 0 for x in lines if x.change == "-"))


def render_diff_text(diff: SnapshotDiff) -> str:
    """restic-like text: one `<change>    <path>` line each, facts, then a summary."""
    out = [f"comparing {diff.a} to {diff.b}:", ""]
    out += [f"{x.change}    {x.path}{'/' if x.type == 'dir' else ''}" for x in diff.changes]
    out += [f"fact {f.name}: {f.before!r} -> {f.after!r}" for f in diff.facts]
    out += ["", f"Files: {diff.added} new, {diff.removed} removed, {diff.modified} changed",
            f"Added: {diff.bytes_added} B, removed: {diff.bytes_removed} B"]
    return "\n".join(out) + "\n"
