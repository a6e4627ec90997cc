"""Edit a YAML document at key paths, keeping its comments, quoting and layout (pure).

Text in, text out: `rewrite(text, edits)` sets (or removes) the value at each key path
and leaves every other line as it was — comments, blank lines, flow or block style, the
quoting of the scalars it replaces. Mappings given as values are merged into the mapping
already there (its keys updated in place, missing ones removed), so `{node-a: node-b}`
stays a flow mapping on its line. New mappings and lists of plain values are written in
flow style, the way hand-written specs keep short ones.

Uses ruamel.yaml's round-trip mode; the caller reads and writes the files.

>>> rewrite("a: 1  # kept\\nb: {c: x}\\n", [YamlEdit(("b", "c"), "y")])
'a: 1  # kept\\nb: {c: y}\\n'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from engine.spec.rewrite_text import in_place

Key = str | int


class RemoveKey:
    """The value of an edit that deletes its key."""

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = RemoveKey()


class YamlEdit(NamedTuple):
    """Set `path` (a tuple of mapping keys and list indexes) to `value` (or REMOVE)."""

    path: tuple[Key, ...]
    value: Any


class RewriteError(ValueError):
    """The text is not YAML, or a path goes through something that is not a mapping."""


class _Sink:
    """Collects what the dumper writes (the pure core opens no streams)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, data: str | bytes) -> None:
        self.parts.append(data.decode("utf-8") if isinstance(data, bytes) else data)


_SEQ_ITEM = re.compile(r"^( *)- ")
_KEY = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")


def _indents(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the document already uses."""
    lines = text.splitlines()
    steps = [len(m.group(1)) for m in (re.match(r"^( +)\S", ln) for ln in lines) if m]
    step = min((s for s in steps if s > 0), default=2)
    for before, line in zip(lines, lines[1:], strict=False):
        item, key = _SEQ_ITEM.match(line), _KEY.match(before)
        if item and key:
            offset = len(item.group(1)) - len(key.group(1))
            return step, offset + 2, offset
    return step, step + 2, step


def _yaml(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=max(sequence, offset + 2), offset=offset)
    return yaml


def _fresh(value: Any) -> Any:
    """A new node for `value`: flow style when it holds only plain values."""
    if isinstance(value, Mapping):
        node = CommentedMap((k, _fresh(v)) for k, v in value.items())
        if all(not isinstance(v, Mapping | list | tuple) for v in value.values()):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_fresh(v) for v in value)
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def _merged(old: Any, new: Any) -> Any:
    """`new` in the shape of `old`: mappings and lists updated in place, a replaced
    string quoted as the old one was."""
    if isinstance(new, Mapping) and isinstance(old, CommentedMap):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merged(old.get(key), value)
        return old
    if isinstance(new, list | tuple) and isinstance(old, CommentedSeq):
        kept = list(old)
        old.clear()
        old.extend(_merged(kept[i] if i < len(kept) else None, v) for i, v in enumerate(new))
        return old
    if isinstance(new, str) and isinstance(old, ScalarString):
        return type(old)(new)
    return _fresh(new)


def _parent(doc: Any, path: tuple[Key, ...], text_name: str) -> Any:
    node = doc
    for depth, key in enumerate(path):
        if isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            continue
        if not isinstance(node, CommentedMap):
            shown = ".".join(map(str, path[:depth])) or "the document"
            raise RewriteError(f"{text_name}: {shown} is not a mapping; cannot set "
                               f"{'.'.join(map(str, path))}")
        if key not in node or node[key] is None:
            node[key] = CommentedMap()
        node = node[key]
    return node


def _load(yaml: YAML, text: str, name: str) -> CommentedMap:
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise RewriteError(f"{name}: not YAML ({str(exc).splitlines()[0]})") from None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise RewriteError(f"{name}: the document is not a mapping")
    return doc


def rewrite(text: str, edits: Sequence[YamlEdit], *, name: str = "<yaml>") -> str:
    """`text` with every edit applied, in order; every line no edit touches is kept.

    A scalar, or a flow list of scalars, replaced by the same kind of value is changed
    in the text itself (the rest of its line, a multi-line flow mapping around it, the
    column of a comment after it stay as written); other edits go through ruamel.yaml's
    round trip. Missing mappings along a path are created. Raises RewriteError naming
    `name` when the text is not one YAML mapping or a path runs through a scalar.
    """
    rest: list[YamlEdit] = []
    pending = list(edits)
    while pending:
        edit = pending.pop(0)
        doc = _load(_yaml(text), text, name)
        split = _split(doc, edit)
        if split is not None:
            pending[:0] = split
            continue
        done = in_place(doc, text, edit.path, edit.value)
        if done is None:
            done = self_insert(doc, text, edit)
        if done is None:
            rest.append(edit)
        else:
            text = done
    return _round_trip(text, rest, name) if rest else text


def _deepest(doc: CommentedMap, path: tuple[Key, ...]) -> tuple[CommentedMap, int]:
    """The deepest mapping along `path` that exists, and how many keys lead to it."""
    node, depth = doc, 0
    for key in path[:-1]:
        child = node.get(key) if isinstance(node, CommentedMap) else None
        if not isinstance(child, CommentedMap):
            break
        node, depth = child, depth + 1
    return node, depth


def self_insert(doc: CommentedMap, text: str, edit: YamlEdit) -> str | None:
    """A new key added to a block mapping as new lines after its last entry (nothing
    else in the text moves); None when the mapping is a flow one or holds the key."""
    if edit.value is REMOVE or not edit.path:
        return None
    parent, depth = _deepest(doc, edit.path)
    key = edit.path[depth]
    if key in parent or (parent.fa.flow_style() and parent is not doc) or (
            not parent and parent is not doc):
        return None
    value: Any = edit.value
    for k in reversed(edit.path[depth + 1:]):
        value = {k: value}
    lines = text.splitlines(keepends=True)
    if parent:
        last = list(parent)[-1]
        line, col = parent.lc.key(last)
    else:
        line, col = -1, 0
    end = line + 1
    while end < len(lines):
        stripped = lines[end].lstrip(" ")
        indent = len(lines[end]) - len(stripped)
        if stripped.strip() and indent <= col:
            break
        end += 1
    while end > line + 1 and not lines[end - 1].strip():
        end -= 1
    piece = CommentedMap([(key, _fresh(value))])
    yaml = _yaml(text)
    sink = _Sink()
    yaml.dump(piece, sink)
    block = "".join(" " * col + ln if ln.strip() else ln
                    for ln in "".join(sink.parts).splitlines(keepends=True))
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    return "".join([*lines[:end], block, *lines[end:]])


def _split(doc: CommentedMap, edit: YamlEdit) -> list[YamlEdit] | None:
    """A mapping merged into the mapping already at its path, as one edit per key (so
    the keys that exist are changed in place); None when the edit is not that."""
    node: Any = doc
    for key in edit.path:
        if not isinstance(node, CommentedMap) or key not in node:
            return None
        node = node[key]
    if not isinstance(edit.value, Mapping) or not isinstance(node, CommentedMap):
        return None
    out = [YamlEdit((*edit.path, k), REMOVE) for k in node if k not in edit.value]
    out += [YamlEdit((*edit.path, k), v) for k, v in edit.value.items()
            if k not in node or node[k] != v]
    return out


def _round_trip(text: str, edits: Sequence[YamlEdit], name: str) -> str:
    yaml = _yaml(text)
    doc = _load(yaml, text, name)
    for edit in edits:
        if not edit.path:
            raise RewriteError(f"{name}: an edit needs a key path")
        parent = _parent(doc, edit.path[:-1], name)
        key = edit.path[-1]
        if not isinstance(parent, CommentedMap | CommentedSeq):
            raise RewriteError(f"{name}: cannot set {'.'.join(map(str, edit.path))}")
        if edit.value is REMOVE:
            if isinstance(parent, CommentedMap) and key in parent:
                del parent[key]
            continue
        old = parent.get(key) if isinstance(parent, CommentedMap) else parent[key]  # type: ignore[index]
        parent[key] = _merged(old, edit.value)
    sink = _Sink()
    yaml.dump(doc, sink)
    return "".join(sink.parts)
