"""The spec reference is generated from the models and the committed copy never goes stale."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from engine.render.specref import FIELD_NOTES, render_spec_reference, type_text
from engine.spec.models import Environment

DOC = Path(__file__).resolve().parents[3] / "docs" / "spec-reference.md"


def test_committed_reference_equals_the_generated_text() -> None:
    assert DOC.read_text(encoding="utf-8") == render_spec_reference(), (
        "docs/spec-reference.md is stale; regenerate it with "
        "'python -m engine.render.specref > docs/spec-reference.md'")


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `root` through its fields, by class name."""
    found: dict[str, type[BaseModel]] = {}
    stack = [root]
    while stack:
        model = stack.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        for field in model.model_fields.values():
            stack.extend(_nested(field.annotation))
    return found


def _nested(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_nested(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        out.extend(_nested(meta))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and getattr(annotation, "__metadata__", None):
        out.extend(_nested(origin))
    return out


def test_every_model_and_key_has_a_section_and_a_row() -> None:
    text = render_spec_reference()
    for name, model in _models(Environment).items():
        assert f"\n## {name}\n" in text, f"no section for {name}"
        for field_name, field in model.model_fields.items():
            key = field.alias or field_name
            assert f"| `{key}` |" in text, f"{name}.{key} missing"


def test_field_notes_name_real_fields() -> None:
    models = _models(Environment)
    for note in FIELD_NOTES:
        model, key = note.split(".", 1)
        assert model in models, f"FIELD_NOTES names unknown model {model}"
        keys = {f.alias or n for n, f in models[model].model_fields.items()}
        assert key in keys, f"FIELD_NOTES names unknown key {note}"


def test_types_defaults_and_links_are_readable() -> None:
    text = render_spec_reference()
    assert "| `update_level` | integer ≥ -1 | `null` |" in text
    assert "| `every` | duration | required |" in text
    assert "| `rto` | duration | `\"15m\"` |" in text
    assert "| `servers` | map of name → [Server](#server) | (empty) |" in text
    assert "| `keep` | [KeepPolicy](#keeppolicy) | (defaults) |" in text
    assert "(by `engine`)" in text
    assert "| `from` | string |" in text  # the alias, not the Python name


def test_type_text_of_schema_shapes() -> None:
    assert type_text({"type": "array", "items": {"type": "string"}}) == "list of string"
    assert type_text({"enum": ["a", "b"]}) == '`"a"` \\| `"b"`'
    assert type_text({"anyOf": [{"$ref": "#/$defs/Rollout"}, {"type": "null"}]}) == \
        "[Rollout](#rollout)"
    assert type_text({}) == "any"
