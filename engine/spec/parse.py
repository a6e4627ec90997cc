"""Turn the text of an environment's YAML files into a validated Environment (pure)."""

from __future__ import annotations

from typing import get_args

from pydantic import TypeAdapter, ValidationError

from engine.spec.errors import SpecError, SpecIssue
from engine.spec.models import SECTIONS, Environment
from engine.spec.paths import path_problems
from engine.spec.references import check_references
from engine.spec.sources import SourceFile
from engine.spec.templating import render_tree, render_vars
from engine.spec.yamlpos import Path_, Pos, SpecSyntaxError, parse_yaml

_SINGLE = ("environment", "state")


class _Merged:
    """The merged data of several files and a position for every key path."""

    def __init__(self) -> None:
        self.data: dict[str, object] = {}
        self.positions: dict[Path_, Pos] = {}
        self.issues: list[SpecIssue] = []

    def issue(self, pos: Pos, message: str) -> None:
        self.issues.append(SpecIssue(pos.file, pos.line, pos.col, message))

    def add(self, name: str, data: object, positions: dict[Path_, Pos]) -> None:
        top = positions.get((), Pos(name, 1, 1))
        if not isinstance(data, dict):
            self.issue(top, "a spec file must be a mapping of sections (environment, servers, ...)")
            return
        ignored = self.data.get("ignore")
        offset = len(ignored) if isinstance(ignored, list) else 0
        for key, value in data.items():
            kpos = positions.get((key, "<key>"), top)
            if key in SECTIONS or key == "vars":
                self._merge_section(key, value, positions, kpos)
            elif key == "ignore":
                self._merge_list(key, value, positions, kpos)
            elif key in self.data and key in _SINGLE:
                if self.data[key] != value:
                    first = self.positions[(key,)]
                    self.issue(kpos, f"'{key}' is already set in {first.file}:{first.line}")
            else:
                self.data[key] = value
        if offset:
            positions = {_shift(path, offset): pos for path, pos in positions.items()}
        # the first file to name a key path keeps its position (duplicates are reported)
        combined = dict(positions)
        combined.update(self.positions)
        self.positions = combined

    def _merge_section(self, key: str, value: object, positions: dict, kpos: Pos) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.data[key] = value  # validation reports the wrong type
            return
        target = self.data.setdefault(key, {})
        if not isinstance(target, dict):
            return
        self.positions.setdefault((key,), kpos)
        for name, item in value.items():
            if name in target:
                first = self.positions[(key, name)]
                where = positions.get((key, name, "<key>"), kpos)
                self.issue(where, f"{key}.{name} is already declared at {first.file}:{first.line}")
                continue
            target[name] = item

    def _merge_list(self, key: str, value: object, positions: dict, kpos: Pos) -> None:
        if not isinstance(value, list):
            self.data[key] = value
            return
        target = self.data.setdefault(key, [])
        if isinstance(target, list):
            target.extend(value)


def _shift(path: Path_, offset: int) -> Path_:
    """The path of an `ignore` entry once earlier files' entries come before it."""
    if len(path) > 1 and path[0] == "ignore" and isinstance(path[1], int):
        return (path[0], path[1] + offset, *path[2:])
    return path


def locate(positions: dict[Path_, Pos], loc: tuple, fallback: Pos) -> Pos:
    """Find the position of the deepest known key path along a validation `loc`.

    Elements pydantic inserts (union tags, 'function-after[...]') are skipped.
    """
    best = positions.get((), fallback)
    path: Path_ = ()
    for part in loc:
        candidate = (*path, part)
        if candidate in positions:
            path = candidate
            best = positions[candidate]
        elif isinstance(part, str) and (*path, part.rstrip("_")) in positions:
            path = (*path, part.rstrip("_"))
            best = positions[path]
    return best


def _message(err: dict) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return f"unknown key '{err['loc'][-1]}' (check the spelling; `drydock schema` lists keys)"
    if err["type"] == "missing":
        return f"missing required key '{err['loc'][-1]}' in {'.'.join(map(str, err['loc'][:-1]))}"
    msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def _item_adapter(section: str) -> TypeAdapter:
    annotation = Environment.model_fields[section].annotation
    return TypeAdapter(get_args(annotation)[1])


def _drop_invalid_items(data: dict, merged: _Merged, fallback: Pos) -> dict:
    """Validate each resource on its own so one bad resource does not hide the others.

    Invalid resources are reported and left out, so references to them are still checked
    against the names declared.
    """
    out = dict(data)
    for section in SECTIONS:
        items = data.get(section)
        if not isinstance(items, dict):
            continue
        adapter = _item_adapter(section)
        keep = {}
        for name, raw in items.items():
            try:
                model = adapter.validate_python(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = (section, name, *err["loc"])
                    merged.issue(locate(merged.positions, loc, fallback),
                                 _message({**err, "loc": loc}))
                repaired = _repair(adapter, raw, exc)
                if repaired is not None:
                    keep[name] = repaired
                continue
            keep[name] = model  # validated once: the environment takes the model as it is
        out[section] = keep
    return out


def _repair(adapter: TypeAdapter, raw: object, exc: ValidationError) -> object | None:
    """Drop the offending keys of an invalid resource so its references still get checked.

    Returns None when the resource cannot be made valid that way.
    """
    for _ in range(5):
        if not isinstance(raw, dict):
            return None
        bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
        if not bad & set(raw):
            return None
        raw = {k: v for k, v in raw.items() if k not in bad}
        try:
            adapter.validate_python(raw)
            return raw
        except ValidationError as again:
            exc = again
    return None


def parse_environment(files: list[SourceFile],
                      positions: dict[Path_, Pos] | None = None) -> Environment:
    """Merge the files (in the order given), render `{{ }}`, validate, check references.

    When `positions` is given it is filled with the file position of every key path, so
    callers can point at a value they check later. Raises SpecError listing every problem
    with FILE:LINE:COL, sorted.
    """
    merged = _Merged()
    for f in files:
        try:
            parsed = parse_yaml(f.name, f.text)
        except SpecSyntaxError as exc:
            merged.issues.extend(exc.issues)
            continue
        merged.add(f.name, parsed.data, parsed.positions)
    fallback = Pos(files[0].name if files else "<none>", 1, 1)
    if merged.issues:
        raise SpecError(merged.issues)
    if "environment" not in merged.data:
        merged.issue(fallback, "no file sets 'environment: <name>'")

    def on_error(path: Path_, message: str) -> None:
        merged.issue(locate(merged.positions, path, fallback), f"template: {message}")

    raw_vars = merged.data.get("vars") or {}
    context = render_vars(raw_vars, on_error) if isinstance(raw_vars, dict) else {}
    data = {
        k: (v if k == "vars" else render_tree(v, context, on_error, (k,)))
        for k, v in merged.data.items()
    }
    data["vars"] = context
    if merged.issues:
        raise SpecError(merged.issues)
    declared = {k: set(v) for k, v in data.items() if k in SECTIONS and isinstance(v, dict)}
    data = _drop_invalid_items(data, merged, fallback)
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            merged.issue(locate(merged.positions, err["loc"], fallback), _message(err))
        raise SpecError(merged.issues) from None
    for loc, message in [*check_references(env, declared), *path_problems(env)]:
        merged.issue(locate(merged.positions, loc, fallback), message)
    if merged.issues:
        raise SpecError(merged.issues)
    if positions is not None:
        positions.update(merged.positions)
    return env
