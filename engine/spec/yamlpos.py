"""Parse YAML into plain data while remembering where every key path came from (pure).

One pass over the parser's event stream (libyaml's when PyYAML is built with it) builds
the data and the position of every node together, so loading costs one parse per file.
The stream is hostile input: nesting is capped, aliases are expanded only within a
budget (an alias bomb fails at once instead of eating memory), tags other than YAML's
plain ones are refused and numbers are bounded. Every problem is a SpecIssue with the
file, line and column where it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml import events as ev
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from engine.spec.errors import SpecIssue

Path_ = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000
MAX_INT_DIGITS = 18

_T = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _T + "str", _T + "map", _T + "seq", _T + "merge"
_SCALAR_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_IMPLICIT = Resolver.yaml_implicit_resolvers
_CONSTRUCT = SafeConstructor.yaml_constructors


class Pos(NamedTuple):
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int


@dataclass
class Parsed:
    """A document's data and the position of every key path in it."""

    data: object
    positions: dict[Path_, Pos] = field(default_factory=dict)


class SpecSyntaxError(ValueError):
    """YAML that could not be read, with its positions."""

    def __init__(self, *issues: SpecIssue) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in issues))


class _Stop(Exception):
    """Parsing cannot go on; carries the one issue that says why."""

    def __init__(self, issue: SpecIssue) -> None:
        self.issue = issue
        super().__init__(str(issue))


_NO_KEY = object()


class _Frame:
    """An open mapping or sequence while its events stream in."""

    __slots__ = ("container", "path", "key", "key_pos", "nodes", "anchor", "merges", "pos")

    def __init__(self, container: dict | list, path: Path_ | None, pos: Pos,
                 anchor: str | None) -> None:
        self.container = container
        self.path = path  # None: a skipped subtree (a duplicate key's value)
        self.key: object = _NO_KEY
        self.key_pos = pos
        self.nodes = 1
        self.anchor = anchor
        self.merges: list[tuple[dict, Pos]] = []
        self.pos = pos


def parse_yaml(file: str, text: str) -> Parsed:
    """Parse one YAML document; raise SpecSyntaxError (FILE:LINE:COL issues) on bad input.

    Duplicate keys in one mapping are errors (YAML would silently keep the last one).
    """
    loader = _LOADER(text)
    composer = _Composer(file)
    try:
        get_event, feed = loader.get_event, composer.feed
        event = get_event()
        while event is not None and type(event) is not ev.StreamEndEvent:
            feed(event)
            event = get_event()
    except _Stop as stop:
        raise SpecSyntaxError(stop.issue) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecSyntaxError(SpecIssue(file, line, col, f"YAML: {exc.problem}")) from None
    except yaml.YAMLError as exc:  # reader errors: bad bytes, no mark
        line, col = _line_col(text, getattr(exc, "position", 0))
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise SpecSyntaxError(SpecIssue(file, line, col, f"YAML: {reason}")) from None
    finally:
        loader.dispose()
    if composer.issues:
        raise SpecSyntaxError(*composer.issues)
    parsed = Parsed(data={} if composer.result is None else composer.result)
    parsed.positions = composer.positions
    return parsed


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[: max(0, int(offset or 0))]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


class _Composer:
    """Builds data and positions from parser events, one event at a time."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Path_, Pos] = {}
        self.issues: list[SpecIssue] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[object, int]] = {}
        self.alias_nodes = 0
        self.result: object = None
        self.documents = 0
        self.ctor = SafeConstructor()
        self.plain: dict[str, object] = {}

    def _pos(self, event: ev.Event) -> Pos:
        mark = event.start_mark
        return Pos(self.file, mark.line + 1, mark.column + 1)

    def _stop(self, pos: Pos, message: str) -> _Stop:
        return _Stop(SpecIssue(pos.file, pos.line, pos.col, message))

    def feed(self, event: ev.Event) -> None:
        """Take one parser event."""
        kind = type(event)
        if kind is ev.ScalarEvent:
            pos = self._pos(event)
            self._value(self._scalar(event, pos), pos, 1, event.anchor, scalar=True)
        elif kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            self._open(event, kind is ev.MappingStartEvent)
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            frame = self.stack.pop()
            if frame.merges:
                _apply_merges(frame, self.positions)
            self._value(frame.container, frame.pos, frame.nodes, frame.anchor, opened=True)
        elif kind is ev.AliasEvent:
            self._alias(event)
        elif kind is ev.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise self._stop(self._pos(event), "a spec file holds one YAML document; "
                                 "remove the second '---' or split the file")

    def _open(self, event: ev.CollectionStartEvent, mapping: bool) -> None:
        pos = self._pos(event)
        if len(self.stack) >= MAX_DEPTH:
            raise self._stop(pos, f"nesting deeper than {MAX_DEPTH} levels")
        tag = event.tag
        if tag not in (None, "!", _MAP if mapping else _SEQ):
            raise self._stop(pos, f"YAML tag {tag_name(tag)} is not allowed in a spec; "
                             "write plain mappings, lists and values")
        path = self._child_path(pos, key_allowed=False)
        frame = _Frame({} if mapping else [], path, pos, event.anchor)
        if path is not None:
            self.positions[path] = pos
        self.stack.append(frame)

    def _child_path(self, pos: Pos, *, key_allowed: bool = True) -> Path_ | None:
        """The path of the node starting now (None when skipped); checks key position."""
        if not self.stack:
            return ()
        parent = self.stack[-1]
        if parent.path is None:
            return None
        if isinstance(parent.container, list):
            return (*parent.path, len(parent.container))
        if parent.key is _NO_KEY:
            if not key_allowed:
                raise self._stop(pos, "mapping keys must be plain scalars")
            return None
        if parent.key is _MERGE or parent.key is None:
            return None
        return (*parent.path, parent.key)  # type: ignore[misc]

    def _value(self, value: object, pos: Pos, nodes: int, anchor: str | None, *,
               scalar: bool = False, opened: bool = False) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, nodes)
        if not self.stack:
            self.result = value
            if not opened:
                self.positions[()] = pos
            return
        parent = self.stack[-1]
        parent.nodes += nodes
        if isinstance(parent.container, list):
            if not opened and parent.path is not None:
                self.positions[(*parent.path, len(parent.container))] = pos
            parent.container.append(value)
            return
        if parent.key is _NO_KEY:
            self._key(parent, value, pos, scalar)
            return
        key, parent.key = parent.key, _NO_KEY
        if key is _MERGE:
            self._merge(parent, value, pos)
            return
        if key is None or parent.path is None:
            return  # a duplicate or invalid key, already reported: drop its value
        parent.container[key] = value  # type: ignore[index]
        if not opened:
            self.positions[(*parent.path, key)] = pos  # type: ignore[misc]

    def _key(self, parent: _Frame, value: object, pos: Pos, scalar: bool) -> None:
        parent.key_pos = pos
        if value is _MERGE:
            parent.key = _MERGE
            return
        if not scalar or value is None or not isinstance(value, str | int | float | bool):
            self.issues.append(SpecIssue(pos.file, pos.line, pos.col,
                                         "mapping keys must be plain scalars"))
            parent.key = None
            return
        key = str(value)
        if key in parent.container:
            first = self.positions.get((*parent.path, key, "<key>"), pos) \
                if parent.path is not None else pos
            self.issues.append(SpecIssue(pos.file, pos.line, pos.col,
                                         f"duplicate key {key!r} (first at line {first.line})"))
            parent.key = None
            return
        parent.key = key
        if parent.path is not None:
            self.positions[(*parent.path, key, "<key>")] = pos

    def _merge(self, parent: _Frame, value: object, pos: Pos) -> None:
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            raise self._stop(pos, "'<<' merges a mapping or a list of mappings")
        parent.merges.extend((item, pos) for item in items)  # type: ignore[misc]

    def _alias(self, event: ev.AliasEvent) -> None:
        pos = self._pos(event)
        found = self.anchors.get(event.anchor)
        if found is None:
            raise self._stop(pos, f"YAML alias *{event.anchor} names no anchor before it")
        value, nodes = found
        self.alias_nodes += nodes
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self._stop(pos, f"YAML aliases expand to more than {MAX_ALIAS_NODES} values; "
                             "write the values out or use vars")
        if self.stack and isinstance(self.stack[-1].container, dict) and \
                self.stack[-1].key is _NO_KEY:
            raise self._stop(pos, "mapping keys must be plain scalars")
        self._value(value, pos, nodes, None)

    def _scalar(self, event: ev.ScalarEvent, pos: Pos) -> object:
        value, tag = event.value, event.tag
        if tag is None:
            if not event.implicit[0]:
                return value
            found = self.plain.get(value, _NO_KEY)  # keys and values repeat a lot
            if found is not _NO_KEY:
                return found
            tag = _resolve(value)
            if tag == _STR:
                self.plain[value] = value
                return value
            if tag == _MERGE:
                return _MERGE
            constructed = self._construct(tag, value, event, pos)
            if tag != _T + "timestamp":
                self.plain[value] = constructed
            return constructed
        if tag == "!":
            return value
        elif tag not in _SCALAR_TAGS:
            raise self._stop(pos, f"YAML tag {tag_name(tag)} is not allowed in a spec; "
                             "write plain values")
        if tag == _STR:
            return value
        return self._construct(tag, value, event, pos)

    def _construct(self, tag: str, value: str, event: ev.ScalarEvent, pos: Pos) -> object:
        if tag == _T + "int" and sum(c.isdigit() for c in value) > MAX_INT_DIGITS:
            raise self._stop(pos, f"number with {sum(c.isdigit() for c in value)} digits: "
                             f"numbers in a spec have at most {MAX_INT_DIGITS} digits "
                             "(quote it to make it text)")
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
        try:
            return _CONSTRUCT[tag](self.ctor, node)
        except Exception:  # PyYAML raises assorted types for malformed values
            kind = tag.removeprefix(_T)
            raise self._stop(pos, f"{_short(value)} is not a valid YAML {kind} "
                             f"(!!{kind}); quote it to make it text") from None


def _resolve(value: str) -> str:
    """The tag YAML 1.1 gives a plain scalar, as PyYAML's safe loader resolves it."""
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", ()):
        if regexp.match(value):
            return tag
    return _STR


def _apply_merges(frame: _Frame, positions: dict[Path_, Pos]) -> None:
    """YAML merge keys: merged entries fill only the keys the mapping does not set."""
    target = frame.container
    for source, pos in frame.merges:
        for key, value in source.items():
            if key not in target:  # type: ignore[operator]
                target[key] = value  # type: ignore[index]
                if frame.path is not None:
                    positions[(*frame.path, key)] = pos
                    positions[(*frame.path, key, "<key>")] = pos


def tag_name(tag: str) -> str:
    """`!!python/object` for PyYAML's long form, the tag itself otherwise."""
    return "!!" + tag.removeprefix(_T) if tag.startswith(_T) else _short(tag)


def _short(text: Any) -> str:
    text = str(text)
    return repr(text if len(text) <= 40 else text[:37] + "...")
