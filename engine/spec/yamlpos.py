"""Parse YAML into plain data while remembering where every key path came from (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from engine.spec.errors import SpecIssue

Path_ = tuple[str | int, ...]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it


@dataclass(frozen=True)
class Pos:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int


@dataclass
class Parsed:
    """A document's data and the position of every key path in it."""

    data: object
    positions: dict[Path_, Pos] = field(default_factory=dict)


def parse_yaml(file: str, text: str) -> Parsed:
    """Parse one YAML document; raise SpecIssue-carrying ValueError on syntax errors.

    Duplicate keys in one mapping are errors (YAML would silently keep the last one).
    """
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecSyntaxError(SpecIssue(file, line, col, f"YAML: {exc.problem}")) from exc
    parsed = Parsed(data=None)
    if node is None:
        parsed.data = {}
        return parsed
    issues: list[SpecIssue] = []
    parsed.data = _convert(node, (), file, parsed.positions, issues)
    if issues:
        raise SpecSyntaxError(*issues)
    return parsed


class SpecSyntaxError(ValueError):
    """YAML that could not be read, with its positions."""

    def __init__(self, *issues: SpecIssue) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in issues))


def _pos(file: str, node: yaml.Node) -> Pos:
    return Pos(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(
    node: yaml.Node, path: Path_, file: str, positions: dict[Path_, Pos], issues: list[SpecIssue]
) -> object:
    positions[path] = _pos(file, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, str | int | float | bool) or key is None:
                p = _pos(file, key_node)
                issues.append(SpecIssue(file, p.line, p.col, "mapping keys must be plain scalars"))
                continue
            key = str(key)
            if key in out:
                p = _pos(file, key_node)
                first = positions[(*path, key)]
                issues.append(SpecIssue(
                    file, p.line, p.col, f"duplicate key {key!r} (first at line {first.line})"
                ))
                continue
            out[key] = _convert(value_node, (*path, key), file, positions, issues)
            positions[(*path, key)] = _pos(file, value_node)
            positions[(*path, key, "<key>")] = _pos(file, key_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, i), file, positions, issues) for i, item in enumerate(node.value)
        ]
    return _scalar(node)


def _scalar(node: yaml.Node) -> object:
    if not isinstance(node, yaml.ScalarNode):
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()
