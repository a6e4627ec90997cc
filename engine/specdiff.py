"""Compare two versions of an environment's spec by resource address and key (pure).

The pull-request view: which resources a branch adds, removes or changes, and for changed
ones which keys moved from what to what. Not a text diff: reformatting a file or moving a
resource to another file changes nothing here.

>>> from engine.spec.models import Environment
>>> a = Environment(environment="x", sites={"dc": {}})
>>> b = Environment(environment="x", sites={"dc": {"description": "main"}})
>>> [r.address for r in compare_specs(a, b, base_ref="main").resources]
['site.dc']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from engine.contracts.models import Frozen
from engine.spec.models import Environment

Status = Literal["added", "removed", "changed"]

SECTION_KINDS: dict[str, str] = {
    "sites": "site", "hosts": "host", "products": "product", "servers": "server",
    "databases": "database", "repositories": "repository", "backups": "backup",
    "drills": "drill", "recover": "recover",
}
"""Spec sections holding named resources, in display order, and their address kind."""

SETTINGS = "settings"
"""The pseudo-address of the environment's own keys: name, vars, state, ignore."""

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SYMBOL = {"added": "+", "removed": "-", "changed": "~"}


class KeyChange(Frozen):
    """One key of a resource that differs; `key` is a dotted path (`service.health.http`)."""

    key: str
    status: Status
    before: Any = None
    after: Any = None


class ResourceDiff(Frozen):
    """One resource the branch adds, removes or changes (keys only for changed ones)."""

    address: str
    status: Status
    keys: tuple[KeyChange, ...] = ()


class FileChange(Frozen):
    """A file of the spec folder other than its YAML (a template, say) that changed."""

    path: str
    status: Status


class SpecDiff(Frozen):
    """What a branch changes in a spec folder relative to its merge-base with `base_ref`.

    `base_error` says why the base could not be read as a spec (it is then compared as
    empty, so every resource shows as added).
    """

    base_ref: str
    base_commit: str | None = None
    resources: tuple[ResourceDiff, ...] = ()
    files: tuple[FileChange, ...] = ()
    base_error: str | None = None

    def addresses(self, status: Status) -> tuple[str, ...]:
        """Addresses with the given status, in display order."""
        return tuple(r.address for r in self.resources if r.status == status)

    @property
    def empty(self) -> bool:
        """True when the branch changes nothing in the folder."""
        return not self.resources and not self.files


def _segment(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else json.dumps(key)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON-like value as (dotted path, value).

    Lists of scalars are leaves (shown whole); lists holding mappings or lists are walked
    by index. An empty mapping is a leaf so that `{}` and absence stay distinguishable.
    """
    if isinstance(value, Mapping) and value:
        for key in value:
            seg = _segment(str(key))
            yield from flatten(value[key], f"{prefix}.{seg}" if prefix else seg)
    elif isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def spec_entries(env: Environment | None) -> dict[str, dict[str, Any]]:
    """Every resource of a spec as address → flattened keys, settings first.

    Values are the validated, rendered spec (defaults filled in, `{{ }}` resolved), so a
    key set to its default is no change and a changed variable shows where it is used.
    """
    if env is None:
        return {}
    data = env.model_dump(mode="json", by_alias=True)
    settings = {k: data[k] for k in ("environment", "vars", "state", "ignore")}
    out = {SETTINGS: dict(flatten(settings))}
    for section, kind in SECTION_KINDS.items():
        for name, body in data[section].items():
            out[f"{kind}.{name}"] = dict(flatten(body))
    return out


def _key_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[KeyChange, ...]:
    out = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            out.append(KeyChange(key=key, status="added", after=after[key]))
        elif key not in after:
            out.append(KeyChange(key=key, status="removed", before=before[key]))
        elif before[key] != after[key]:
            out.append(KeyChange(key=key, status="changed", before=before[key], after=after[key]))
    return tuple(out)


def compare_specs(
    before: Environment | None,
    after: Environment,
    *,
    base_ref: str,
    base_commit: str | None = None,
    files: Sequence[FileChange] = (),
    base_error: str | None = None,
) -> SpecDiff:
    """The resources `after` adds, removes or changes relative to `before` (None: empty).

    Order: settings, then the sections in SECTION_KINDS order, names sorted.
    """
    old, new = spec_entries(before), spec_entries(after)
    order = {kind: i for i, kind in enumerate([SETTINGS, *SECTION_KINDS.values()])}

    def position(address: str) -> tuple[int, str]:
        return order.get(address.split(".", 1)[0], len(order)), address

    resources = []
    for address in sorted(set(old) | set(new), key=position):
        if address not in old:
            status: Status = "added"
            keys: tuple[KeyChange, ...] = ()
        elif address not in new:
            status, keys = "removed", ()
        else:
            keys = _key_changes(old[address], new[address])
            if not keys:
                continue
            status = "changed"
        if address == SETTINGS and status != "changed":
            continue
        resources.append(ResourceDiff(address=address, status=status, keys=keys))
    return SpecDiff(base_ref=base_ref, base_commit=base_commit, resources=tuple(resources),
                    files=tuple(sorted(files, key=lambda f: f.path)), base_error=base_error)


def show_value(value: Any, limit: int = 120) -> str:
    """A compact one-line JSON display of a value, cut at `limit` characters."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def headline(diff: SpecDiff) -> str:
    """`Spec changes since main (merge-base 0123456789): 1 added, 0 removed, 2 changed`."""
    where = f" (merge-base {diff.base_commit[:10]})" if diff.base_commit else ""
    counts = ", ".join(f"{len(diff.addresses(s))} {s}" for s in ("added", "removed", "changed"))
    files = f"; {len(diff.files)} other file(s)" if diff.files else ""
    return f"Spec changes since {diff.base_ref}{where}: {counts}{files}"


def spec_diff_lines(diff: SpecDiff, *, limit: int = 120) -> list[str]:
    """The compact view, one line per resource and per changed key (no headline).

    `+ server.gw-3`, `- database.old`, `~ server.gw-1` followed by indented
    `~ update_level: 14 → 15` lines, then changed non-YAML files.
    """
    out: list[str] = []
    if diff.base_error:
        out.append(f"! the spec at {diff.base_ref} did not parse ({diff.base_error}); "
                   "compared as empty")
    if diff.empty:
        out.append("  (no changes to the spec folder)")
    for r in diff.resources:
        out.append(f"{_SYMBOL[r.status]} {r.address}")
        for k in r.keys:
            if k.status == "added":
                out.append(f"    + {k.key} = {show_value(k.after, limit)}")
            elif k.status == "removed":
                out.append(f"    - {k.key} = {show_value(k.before, limit)}")
            else:
                out.append(f"    ~ {k.key}: {show_value(k.before, limit)} → "
                           f"{show_value(k.after, limit)}")
    for f in diff.files:
        out.append(f"{_SYMBOL[f.status]} file {f.path}")
    return out


def render_spec_diff_text(diff: SpecDiff) -> str:
    """The spec diff as plain text for the terminal: headline and compact lines."""
    return "\n".join([headline(diff), *spec_diff_lines(diff)]) + "\n\n"
