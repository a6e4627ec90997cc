"""Sandboxed jinja2 rendering for `{{ }}` in spec strings and config templates (pure).

Every failure — a syntax error, an undefined name, `{{ 1/0 }}`, a bound of the sandbox
— is a TemplateRenderError with one line of text and, where jinja knows it, the line
in the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError

from engine.spec.ansible_header import PREFIX as HEADER
from engine.spec.ansible_header import HeaderError, split_header
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
    """Compiled templates of one whitespace style, by source text; each compiles once.

    With Ansible's whitespace a template's `#jinja2:` first line is honoured as Ansible's
    template module honours it (engine/spec/ansible_header.py): its settings get their own
    sandbox, and lines are still counted from the top of the file.
    """

    def __init__(self, whitespace: str = "jinja") -> None:
        self.whitespace = whitespace
        self.env = BoundedSandbox(whitespace=whitespace)
        self._envs: dict[tuple, BoundedSandbox] = {(): self.env}
        self._compiled: dict[str, tuple[BoundedSandbox, Template, int]] = {}

    def render(self, source: str, context: Mapping[str, Any], name: str = _NAME) -> str:
        """Render `source` with `context`; raises TemplateRenderError (one line, with the
        template line when known)."""
        shift = 0
        try:
            found = self._compiled.get(source)
            if found is None:
                if len(self._compiled) >= _CACHE_SIZE:
                    self._compiled.clear()
                found = self._compiled[source] = self._compile(source, name)
            env, template, shift = found
            return render_bounded(env, template, source, context)
        except HeaderError as exc:
            raise TemplateRenderError(str(exc), 1) from None
        except TemplateSyntaxError as exc:
            line = exc.lineno + self._shift(source) if exc.lineno else None
            raise TemplateRenderError(_first_line(exc.message or str(exc)), line) from None
        except Exception as exc:  # jinja and the code it runs raise any type; all mean "fails"
            line = _failing_line(exc, name)
            raise TemplateRenderError(_describe(exc), line + shift if line else None) from None

    def _shift(self, source: str) -> int:
        return 1 if self.whitespace == "ansible" and source.startswith(HEADER) else 0

    def _compile(self, source: str, name: str) -> tuple[BoundedSandbox, Template, int]:
        body, settings = split_header(source) if self.whitespace == "ansible" else (source, {})
        key = tuple(sorted(settings.items()))
        env = self._envs.get(key)
        if env is None:
            env = self._envs[key] = BoundedSandbox(whitespace=self.whitespace,
                                                   overrides=settings)
        code = env.compile(body, name, name)
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
        return env, template, self._shift(source)


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
