"""JSON Schemas (2020-12) of the spec, the plan document and the state document (pure).

The spec schema is for editors and linters checking one file at a time: every `*.yaml`
of an environment is a fragment of the merged document, so nothing is required at its
top level; durations are the spec's short form (`15s`, `6h`, `1d12h`) as a pattern; and
since every string of a spec may use `{{ }}` before it is read as a number, a boolean,
a duration or a choice, such values also accept a templated string.

    drydock schema                 # the spec
    drydock schema --kind plan     # a saved plan (plan -o FILE, plan --format json)
    drydock schema --kind state    # the state document
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel

from engine.contracts.models import Plan
from engine.spec.models import Environment
from state.document import StateDocument

Node = dict[str, Any]
Kind = Literal["spec", "plan", "state"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_IDS: dict[str, str] = {
    "spec": "urn:drydock:schema:spec:1",
    "plan": "urn:drydock:schema:plan:1",
    "state": "urn:drydock:schema:state:1",
}
DURATION_PATTERN = r"^\s*([0-9]+[smhdwSMHDW])+\s*$"
TEMPLATED = {
    "type": "string",
    "pattern": r"\{\{.*\}\}|\{%.*%\}",
    "description": "A string with `{{ }}`, rendered with the spec's vars before it is read.",
}
_KEPT_OUTSIDE = ("title", "description", "default", "examples")


def _duration(node: Node) -> Node:
    """A pydantic timedelta node as the spec writes durations: `90s`, `15m`, `1h30m`."""
    outer = {k: node[k] for k in _KEPT_OUTSIDE if k in node}
    return {**outer, "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN,
         "description": "A number and a unit (s, m, h, d, w), e.g. 15s, 6h, 1d, 1h30m."},
        {"type": "number", "minimum": 0, "description": "Seconds."},
        {"$ref": "#/$defs/Templated"},
    ]}


def _needs_template_choice(node: Node) -> bool:
    """True for a value a rendered `{{ }}` string may stand for but the node would refuse."""
    kind = node.get("type")
    if kind in ("integer", "number", "boolean"):
        return True
    return kind == "string" and any(k in node for k in ("pattern", "enum", "format"))


def _templatable(node: Node) -> Node:
    outer = {k: node[k] for k in _KEPT_OUTSIDE if k in node}
    inner = {k: v for k, v in node.items() if k not in _KEPT_OUTSIDE}
    return {**outer, "anyOf": [inner, {"$ref": "#/$defs/Templated"}]}


def _walk(node: Any, fix: Callable[[Node], Node | None]) -> Any:
    """Rebuild a schema bottom-up, letting `fix` replace any node (None keeps it)."""
    if isinstance(node, list):
        return [_walk(item, fix) for item in node]
    if not isinstance(node, dict):
        return node
    out: Node = {}
    for key, value in node.items():
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: _walk(sub, fix) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples", "required", "discriminator"):
            out[key] = value
        else:
            out[key] = _walk(value, fix)
    replaced = fix(out)
    return out if replaced is None else replaced


def _spec_fix(node: Node) -> Node | None:
    if node.get("format") == "duration":
        return _duration(node)
    if _needs_template_choice(node):
        return _templatable(node)
    return None


def _stamp(schema: Node, kind: Kind, title: str) -> Node:
    head = {"$schema": DIALECT, "$id": SCHEMA_IDS[kind], "title": title}
    return {**head, **{k: v for k, v in schema.items() if k not in head}}


def spec_schema() -> Node:
    """The schema one spec file validates against (every key optional at the top)."""
    raw = copy.deepcopy(Environment.model_json_schema(by_alias=True))
    vars_node = raw["properties"].get("vars")
    schema = _walk(raw, _spec_fix)
    if vars_node is not None:
        schema["properties"]["vars"] = vars_node  # free values: nothing to template-check
    schema.pop("required", None)
    schema["description"] = (
        "One file of a drydock environment. All *.yaml files of the folder are merged; "
        "together they must set 'environment', which 'drydock validate' checks.")
    schema.setdefault("$defs", {})["Templated"] = TEMPLATED
    return _stamp(schema, "spec", "drydock spec file")


def _document_schema(model: type[BaseModel], kind: Kind, title: str) -> Node:
    return _stamp(copy.deepcopy(model.model_json_schema(mode="serialization")), kind, title)


def plan_schema() -> Node:
    """The schema of a saved plan (`plan -o FILE`, `plan --format json`, `show --format json`)."""
    return _document_schema(Plan, "plan", "drydock plan document")


def state_schema() -> Node:
    """The schema of a state document as the local and S3 backends store it."""
    return _document_schema(StateDocument, "state", "drydock state document")


def schema_of(kind: Kind) -> Node:
    """The schema of `kind`: "spec", "plan" or "state". Raises KeyError for anything else."""
    return {"spec": spec_schema, "plan": plan_schema, "state": state_schema}[kind]()
