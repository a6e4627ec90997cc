"""Sandboxed jinja2 rendering for `{{ }}` in spec strings and config templates (pure).

Every failure — a syntax error, an undefined name, `{{ 1/0 }}`, a bound of the sandbox
— is a TemplateRenderError with one line of text and, where jinja knows it, the line
in the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError

from engine.spec.sandbox import BoundedSandbox, render_bounded

_NAME = "<spec string>"
_CACHE_SIZE = 10_000


class TemplateRenderError(ValueError):
    """A template failed to render; the message says why in one line.

    `line` is the template line where it failed, when known (1-based).
    """

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class Templates:
    """Compiled templates of one whitespace style, by source text; each compiles once."""

    def __init__(self, whitespace: str = "jinja") -> None:
        self.env = BoundedSandbox(whitespace=whitespace)
        self._compiled: dict[str, Template] = {}

    def render(self, source: str, context: Mapping[str, Any], name: str = _NAME) -> str:
        """Render `source` with `context`; raises TemplateRenderError (one line, with the
        template line when known)."""
        try:
            template = self._compiled.get(source)
            if template is None:
                if len(self._compiled) >= _CACHE_SIZE:
                    self._compiled.clear()
                code = self.env.compile(source, name, name)
                template = self.env.template_class.from_code(
                    self.env, code, self.env.make_globals(None), None)
                self._compiled[source] = template
            return render_bounded(self.env, template, source, context)
        except TemplateSyntaxError as exc:
            raise TemplateRenderError(_first_line(exc.message or str(exc)), exc.lineno) from None
        except Exception as exc:  # jinja and the code it runs raise any type; all mean "fails"
            raise TemplateRenderError(_describe(exc), _failing_line(exc, name)) from None


def make_environment(whitespace: str = "jinja") -> BoundedSandbox:
    """A sandbox: no internals, no mutation, undefined names are errors, bounded work."""
    return BoundedSandbox(whitespace=whitespace)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["failed"])[0]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemplateError):
        return _first_line(exc.message or type(exc).__name__)
    if isinstance(exc, RecursionError):
        return "recursion too deep (a macro calling itself?)"
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = _first_line(str(exc)) if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _failing_line(exc: BaseException, name: str) -> int | None:
    """The template line jinja's rewritten traceback points at (the innermost one)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_STRINGS = Templates()


def render_string(text: str, context: Mapping[str, Any]) -> str:
    """Render one string when it holds `{{`/`{%`; other strings come back unchanged.

    Raises TemplateRenderError with jinja's reason (e.g. "'world' is undefined").
    """
    if "{{" not in text and "{%" not in text:
        return text
    return _STRINGS.render(text, context)


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
