"""Replace one scalar, or one flow list of scalars, in YAML text where it is written (pure).

The round trip through ruamel.yaml keeps comments but not every layout detail (a flow
mapping written over two lines comes back on one, a comment after a value keeps its
column); replacing the value's characters in the text itself keeps all of that. Used by
`engine.spec.rewrite` for the edits it can make so; it says None for the others.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_FLOW_END = ",]}"


def render(value: str, quote: str) -> str:
    """`value` as a YAML scalar, quoted like the one it replaces (plain when safe)."""
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    if quote == '"' or not _PLAIN.match(value) or value.lower() in _RESERVED:
        return json.dumps(value, ensure_ascii=False)
    return value


def _offset(text: str, line: int, col: int) -> int:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    return starts[line] + col


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            if quote == "'" and text[i + 1:i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    raise ValueError("unterminated quoted scalar")


def scalar_end(text: str, start: int, flow: bool) -> int:
    """Where the scalar written at `start` ends (exclusive)."""
    if text[start] in "'\"":
        return _quoted_end(text, start)
    i = start
    while i < len(text) and text[i] != "\n":
        if flow and text[i] in _FLOW_END:
            break
        if text[i] == "#" and text[i - 1] in " \t":
            break
        i += 1
    while i > start and text[i - 1] in " \t":
        i -= 1
    return i


def _flow_list_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] in "'\"":
            i = _quoted_end(text, i)
            continue
        if text[i] in "[{":
            return -1
        if text[i] == "]":
            return i + 1
        i += 1
    return -1


def _node(doc: CommentedMap, path: tuple[Any, ...]) -> Any:
    node: Any = doc
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def _flow(node: Any) -> bool:
    return bool(node.fa.flow_style()) if hasattr(node, "fa") else False


def in_place(doc: CommentedMap, text: str, path: tuple[Any, ...], value: Any) -> str | None:
    """`text` with the value at `path` replaced in place, or None when this edit is not a
    string (or list of strings) replacing one of the same kind."""
    parent = _node(doc, path[:-1]) if path else None
    key = path[-1] if path else None
    if not isinstance(parent, CommentedMap) or key not in parent:
        return None
    old = parent[key]
    line, col = parent.lc.value(key)
    start = _offset(text, line, col)
    if isinstance(value, str) and isinstance(old, str) and text[start:start + 1] not in "|>":
        try:
            end = scalar_end(text, start, _flow(parent))
        except ValueError:
            return None
        quote = text[start] if text[start] in "'\"" else ""
        return text[:start] + render(value, quote) + text[end:]
    if (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            and isinstance(old, CommentedSeq) and _flow(old) and text[start:start + 1] == "["
            and all(isinstance(v, str) for v in old)):
        end = _flow_list_end(text, start)
        if end < 0:
            return None
        quote = next((text[i] for i in range(start, end) if text[i] in "'\""), "")
        return text[:start] + "[" + ", ".join(render(v, quote) for v in value) + "]" + text[end:]
    return None
