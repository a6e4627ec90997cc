"""Sandboxed jinja2 rendering for `{{ }}` in spec strings and config templates (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRenderError(ValueError):
    """A template failed to render; the message says why in one line."""


def make_environment() -> ImmutableSandboxedEnvironment:
    """A sandbox: no attribute access to internals, no mutation, undefined names are errors."""
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


_ENV = make_environment()


def render_string(text: str, context: Mapping[str, Any]) -> str:
    """Render one string when it holds `{{`/`{%`; other strings come back unchanged.

    Raises TemplateRenderError with jinja's reason (e.g. "'world' is undefined").
    """
    if "{{" not in text and "{%" not in text:
        return text
    try:
        return _ENV.from_string(text).render(dict(context))
    except TemplateError as exc:
        raise TemplateRenderError(str(exc.message or exc).splitlines()[0]) from exc


def render_tree(value: Any, context: Mapping[str, Any], on_error: Any, path: tuple = ()) -> Any:
    """Render every string inside nested dicts and lists.

    `on_error(path, message)` is called for each string that fails; it keeps its raw text.
    """
    if isinstance(value, str):
        try:
            return render_string(value, context)
        except TemplateRenderError as exc:
            on_error(path, str(exc))
            return value
    if isinstance(value, dict):
        return {k: render_tree(v, context, on_error, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [render_tree(v, context, on_error, (*path, i)) for i, v in enumerate(value)]
    return value


def render_vars(raw: Mapping[str, Any], on_error: Any) -> dict[str, Any]:
    """Render `vars` in order; each value may use the ones declared before it."""
    done: dict[str, Any] = {}
    for key, value in raw.items():
        done[key] = render_tree(value, done, on_error, ("vars", key))
    return done
