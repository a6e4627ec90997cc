"""A jinja2 sandbox with bounds: templates come from pull requests too (pure).

On top of jinja's immutable sandbox and StrictUndefined: every loop iteration of one
render counts against MAX_STEPS (so nested loops cannot spin for hours), output and
every string, list or number produced on the way are bounded (so `'x' * 10**9`,
`10 ** 10**9` or a doubling concatenation fail at once instead of eating the machine),
numeric arguments to filters and methods are capped, and the output stops at
MAX_OUTPUT characters. Ansible's filters are installed; `whitespace="ansible"` gives
the template module's whitespace rules, and `overrides` a `#jinja2:` line's settings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.spec.filters import ANSIBLE_FILTERS

MAX_OUTPUT = 4 << 20  # characters in a rendered file or any string made on the way
MAX_ITEMS = 100_000  # items in a list made by a template
MAX_STEPS = 1_000_000  # loop iterations in one render
MAX_ARG = 10_000  # width given to a filter or str method that pads or repeats
MAX_INT_BITS = 4096  # integers a template computes
_BUDGET = "_drydock_budget"
_WIDE_FORMAT = re.compile(r"(%|\{[^}]*:)[^a-zA-Z%}]*\d{5,}")


class TemplateBoundError(SecurityError):
    """A template went over one of the sandbox's bounds."""


class Budget:
    """The loop iterations one render has used."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Yield from `iterable`, counting each item against MAX_STEPS."""
        for item in iterable:
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise TemplateBoundError(f"more than {MAX_STEPS} loop iterations")
            yield item


def check_size(value: Any) -> Any:
    """`value` when it is within the bounds for strings, lists and integers."""
    if isinstance(value, str | bytes) and len(value) > MAX_OUTPUT:
        raise TemplateBoundError(f"a value of {len(value)} characters is over the limit of "
                                 f"{MAX_OUTPUT}")
    if isinstance(value, list | tuple | dict) and len(value) > MAX_ITEMS:
        raise TemplateBoundError(f"a collection of {len(value)} items is over the limit of "
                                 f"{MAX_ITEMS}")
    if isinstance(value, int) and not isinstance(value, bool) and \
            value.bit_length() > MAX_INT_BITS:
        raise TemplateBoundError(f"an integer of {value.bit_length()} bits is over the limit")
    return value


def _check_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_ARG:
            raise TemplateBoundError(f"argument {arg} is over the limit of {MAX_ARG}")


def _check_format(fmt: Any) -> None:
    if isinstance(fmt, str) and _WIDE_FORMAT.search(fmt):
        raise TemplateBoundError("a format width of 10000 or more is over the limit")


# filters and str methods whose numeric arguments make their output larger
_WIDENING_FILTERS = {"center", "indent", "wordwrap", "truncate", "batch", "slice"}
_WIDENING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


def _bounded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: widths capped, format widths checked, result size checked."""
    skip = 2 if getattr(func, "jinja_pass_arg", None) else 1  # context/env, then the value
    widening = name in _WIDENING_FILTERS
    is_format = name == "format"

    @functools.wraps(func)  # keeps jinja's pass_context/pass_environment marker
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if widening:
            _check_args(args[skip:])
            _check_args(kwargs.values())
        if is_format and len(args) >= skip:
            _check_format(args[skip - 1])
        return check_size(func(*args, **kwargs))

    return wrapper


@pass_context
def _count_steps(context: Context, iterable: Iterable[Any]) -> Iterable[Any]:
    budget = context.get(_BUDGET)
    return budget.iterate(iterable) if isinstance(budget, Budget) else iterable


def _sized(value: Any) -> Any:
    return check_size(value)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox plus the bounds in this module's docstring."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, *, whitespace: str = "jinja",
                 overrides: Mapping[str, Any] | None = None) -> None:
        ansible = whitespace == "ansible"
        settings: dict[str, Any] = {"keep_trailing_newline": not ansible,
                                    "trim_blocks": ansible, "lstrip_blocks": False,
                                    **(overrides or {})}
        super().__init__(undefined=StrictUndefined, autoescape=False,
                         finalize=_ansible_finalize if ansible else None, **settings)
        self.whitespace = whitespace
        self.filters.update(ANSIBLE_FILTERS)
        self.filters = {name: _bounded(name, f) for name, f in self.filters.items()}
        self.filters["_drydock_steps"] = _count_steps
        self.filters["_drydock_sized"] = _sized

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_drydock_steps", [], [], None, None,
                                     lineno=loop.lineno)
        for concat in list(tree.find_all(nodes.Concat)):
            _wrap_in_parent(tree, concat)
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**` and `+` with their results bounded before they are computed."""
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and \
                abs(left) > 1 and right * max(abs(left).bit_length(), 1) > MAX_INT_BITS:
            raise TemplateBoundError(f"{left} ** {right} is over the limit")
        if operator == "%" and isinstance(left, str):
            _check_format(left)
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and \
                        len(seq) * n > (MAX_OUTPUT if isinstance(seq, str) else MAX_ITEMS):
                    raise TemplateBoundError(f"repeating {len(seq)} items {n} times is over "
                                             "the limit")
        return check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any,  # noqa: N805
             **kwargs: Any) -> Any:
        """Method and function calls: widths capped, results bounded."""
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") in _WIDENING_METHODS:
            _check_args(args)
            _check_args(kwargs.values())
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace" and \
                len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
            grows = owner.count(args[0]) * len(args[1]) if args[0] else len(owner) * len(
                args[1])
            if len(owner) + grows > MAX_OUTPUT:
                raise TemplateBoundError("replace would make a string over the limit")
        return check_size(super().call(__context, __obj, *args, **kwargs))


    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`'...'.format` as jinja sandboxes it, refusing huge widths in the format."""
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format",
                                                                         "format_map"):
            _check_format(owner)
        return super().wrap_str_format(value)


def _wrap_in_parent(tree: nodes.Node, target: nodes.Node) -> None:
    """Replace `target` in its parent by `target|_drydock_sized` (jinja nodes keep no
    parent link, so the tree is searched once per concatenation; templates are small)."""
    for parent in tree.find_all(nodes.Node):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if value is target:
                setattr(parent, field, nodes.Filter(target, "_drydock_sized", [], [], None,
                                                    None, lineno=target.lineno))
                return
            if isinstance(value, list) and any(v is target for v in value):
                setattr(parent, field, [nodes.Filter(v, "_drydock_sized", [], [], None, None,
                                                     lineno=v.lineno) if v is target else v
                                        for v in value])
                return


def _ansible_finalize(value: Any) -> Any:
    """Ansible prints an unset (None) expression as nothing, not as 'None'."""
    return "" if value is None else value


def render_bounded(env: BoundedSandbox, template: Template, source: str,
                   context: Mapping[str, Any]) -> str:
    """Render with a fresh loop budget, stopping at MAX_OUTPUT characters.

    With Ansible's whitespace, trailing newlines are made up as its template module
    does: as many as the template source ends with, when the output has fewer.
    Raises TemplateBoundError or whatever jinja raises.
    """
    parts: list[str] = []
    size = 0
    for chunk in template.generate({**context, _BUDGET: Budget()}):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateBoundError(f"output over {MAX_OUTPUT} characters")
        parts.append(chunk)
    out = "".join(parts)
    if env.whitespace == "ansible":
        want = len(source) - len(source.rstrip("\n"))
        have = len(out) - len(out.rstrip("\n"))
        if want > have:
            out += "\n" * (want - have)
    return out
