"""Compare desired, recorded and observed state into changes and drift (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from engine.contracts.models import (
    AttrDiff,
    Change,
    DesiredResource,
    Drift,
    FileDiff,
    ObservedResource,
)

Recorded = Mapping[str, Any]  # address -> recorded attributes


class IgnoreMatcher:
    """Attribute names whose drift is noise, per address pattern (fnmatch style)."""

    def __init__(self, rules: Sequence[tuple[str, Sequence[str]]] = ()) -> None:
        self._rules = [(addr, tuple(attrs)) for addr, attrs in rules]

    def ignored(self, address: str, attribute: str) -> bool:
        """True when a rule for `address` lists a pattern matching `attribute`."""
        return any(
            fnmatchcase(address, addr) and any(fnmatchcase(attribute, a) for a in attrs)
            for addr, attrs in self._rules
        )


def _attr_diffs(
    before: Mapping[str, Any], after: Mapping[str, Any], keys: Sequence[str]
) -> tuple[AttrDiff, ...]:
    return tuple(
        AttrDiff(name=k, before=before.get(k), after=after.get(k))
        for k in keys
        if before.get(k) != after.get(k)
    )


def unified(path: str, before: str, after: str) -> str:
    """A unified diff of two texts, labelled with the file's path."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"{path} (current)", tofile=f"{path} (desired)", n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _file_diffs(
    diffs: Sequence[AttrDiff], desired: DesiredResource | None, observed: ObservedResource | None
) -> tuple[FileDiff, ...]:
    out = []
    for d in diffs:
        if not d.name.startswith("config:"):
            continue
        path = d.name.removeprefix("config:")
        now = observed.files.get(path, "") if observed else ""
        want = desired.files.get(path, "") if desired else ""
        shown = path in observed.files or not observed.exists or d.before is None \
            if observed is not None else False
        if shown:
            out.append(FileDiff(path=path, unified=unified(path, now, want)))
    return tuple(out)


def _describe(diffs: Sequence[AttrDiff]) -> str:
    parts = []
    for d in diffs[:4]:
        if d.name.startswith("config:"):
            parts.append(f"{d.name.removeprefix('config:')} differs")
        elif isinstance(d.before, list) or isinstance(d.after, list):
            added = sorted(set(d.after or []) - set(d.before or []))
            removed = sorted(set(d.before or []) - set(d.after or []))
            bits = [f"+{x}" for x in added] + [f"-{x}" for x in removed]
            parts.append(f"{d.name} {' '.join(bits)}")
        else:
            parts.append(f"{d.name} {d.before} → {d.after}")
    if len(diffs) > 4:
        parts.append(f"{len(diffs) - 4} more")
    return ", ".join(parts)


REPLACING_ATTRIBUTES = frozenset({"product", "home", "engine", "path", "identifier"})


def diff_resource(
    address: str,
    kind: str,
    desired: DesiredResource | None,
    recorded: Mapping[str, Any] | None,
    observed: ObservedResource | None,
) -> Change:
    """The change that brings `address` from what is (observed, else recorded) to desired.

    `observed` is None when refresh was skipped; the recorded attributes stand in for it.
    """
    if desired is None:
        if recorded is None:
            return Change(address=address, kind=kind, action="no-op", reason="not managed")
        return Change(address=address, kind=kind, action="delete",
                      reason="removed from the spec",
                      diffs=tuple(AttrDiff(name=k, before=v) for k, v in sorted(recorded.items())))
    keys = sorted(desired.attributes)
    if observed is not None and not observed.exists:
        reason = "recorded but missing: recreate" if recorded is not None else "does not exist yet"
        return Change(address=address, kind=kind, action="create", reason=reason,
                      diffs=_attr_diffs({}, desired.attributes, keys))
    if observed is None and recorded is None:
        return Change(address=address, kind=kind, action="create", reason="not in the state yet",
                      diffs=_attr_diffs({}, desired.attributes, keys))
    current = observed.attributes if observed is not None else (recorded or {})
    diffs = _attr_diffs(current, desired.attributes, keys)
    if not diffs:
        return Change(address=address, kind=kind, action="no-op", reason="up to date")
    replacing = [d.name for d in diffs if d.name in REPLACING_ATTRIBUTES]
    action = "replace" if replacing else "update"
    reason = (f"{', '.join(replacing)} changed: replace" if replacing else _describe(diffs))
    return Change(address=address, kind=kind, action=action, reason=reason, diffs=diffs,
                  file_diffs=_file_diffs(diffs, desired, observed))


def drift_resource(
    address: str,
    kind: str,
    desired: DesiredResource | None,
    recorded: Mapping[str, Any] | None,
    observed: ObservedResource | None,
    ignore: IgnoreMatcher,
) -> Drift | None:
    """Where observed reality moved away from what the last apply recorded, or None."""
    if recorded is None or observed is None or observed.error:
        return None
    if not observed.exists:
        return Drift(address=address, kind=kind, reason="recorded but gone from the world")
    keys = sorted(k for k in recorded if not ignore.ignored(address, k))
    diffs = tuple(
        AttrDiff(name=k, before=recorded.get(k), after=observed.attributes.get(k))
        for k in keys
        if k in observed.attributes and recorded.get(k) != observed.attributes.get(k)
    )
    if not diffs:
        return None
    file_diffs = []
    for d in diffs:
        if d.name.startswith("config:"):
            path = d.name.removeprefix("config:")
            was = desired.files.get(path) if desired is not None else None
            now = observed.files.get(path)
            if was is not None and now is not None:
                file_diffs.append(FileDiff(path=path, unified=unified(path, was, now)
                                           .replace("(current)", "(recorded)")
                                           .replace("(desired)", "(now)")))
    return Drift(address=address, kind=kind, reason="changed outside drydock: " + _describe(
        [AttrDiff(name=d.name, before=d.before, after=d.after) for d in diffs]),
        diffs=diffs, file_diffs=tuple(file_diffs))
