"""The template filters configuration roles in the wild use, with Ansible's meaning (pure).

Written from Ansible's documented behaviour so a role's `deployment.toml.j2` renders the
same here: `bool`, `to_json`/`to_nice_json`, `to_yaml`/`to_nice_yaml`, `regex_replace`,
`regex_search`, `b64encode`/`b64decode`, `mandatory`, `quote`, `ternary`, `combine`,
`dict2items`, `items2dict`. (`default(value, true)` is Jinja's own.) Regular expressions
run with a time limit and bounded input, so a catastrophic pattern fails in one line
instead of hanging a plan.
"""

from __future__ import annotations

import base64
import binascii
import json
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import regex
import yaml
from jinja2 import StrictUndefined, Undefined
from jinja2.exceptions import FilterArgumentError, UndefinedError

REGEX_TIMEOUT = 1.0  # seconds one regex filter may run
REGEX_MAX_INPUT = 1 << 20  # characters a regex filter accepts
_TRUE = ("yes", "on", "1", "true")
_FALSE = ("no", "off", "0", "false")


def to_bool(value: Any) -> bool:
    """Ansible's `bool`: True/'yes'/'on'/'1'/'true'/1 and their opposites (any case, no
    surrounding spaces).

    Unset (None) is False. Anything else is refused rather than guessed: Ansible 2.19
    coerces it (to False, or True for 1.0) with a deprecation warning saying the fallback
    goes in 2.23, and a configuration file should not change on a typo.
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise FilterArgumentError(f"bool: {value!r} is not a boolean; use true/false, yes/no, "
                              "on/off or 1/0")


def to_json(value: Any, **kwargs: Any) -> str:
    """Ansible's `to_json`: compact JSON (`json.dumps` defaults; keys as given)."""
    return json.dumps(value, **_json_args(kwargs))


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    """Ansible's `to_nice_json`: indented, sorted keys, `", "`/`": "` separators."""
    return json.dumps(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "),
                      **_json_args(kwargs))


def _json_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    allowed = {"ensure_ascii", "sort_keys", "indent", "separators", "allow_nan"}
    bad = set(kwargs) - allowed
    if bad:
        raise FilterArgumentError(f"to_json: unknown argument {sorted(bad)[0]!r}")
    return kwargs


_SAFE_DUMPER: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SAFE_DUMPER):  # type: ignore[misc,valid-type]
    """Safe YAML output through libyaml's emitter when PyYAML has it, as Ansible's dumper
    does (it differs from the pure-Python one: a lone scalar gets no `...` end marker)."""


def to_yaml(value: Any, indent: int = 2, width: int = 80, **kwargs: Any) -> str:
    """Ansible's `to_yaml`: PyYAML's dump, flow style where PyYAML picks it, unicode kept."""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, default_flow_style=None,
                     indent=indent, width=width, **_yaml_args(kwargs))


def to_nice_yaml(value: Any, indent: int = 4, width: int = 80, **kwargs: Any) -> str:
    """Ansible's `to_nice_yaml`: block style, indent 4, unicode kept."""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, default_flow_style=False,
                     indent=indent, width=width, **_yaml_args(kwargs))


def _yaml_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    bad = set(kwargs) - {"sort_keys", "explicit_start", "explicit_end"}
    if bad:
        raise FilterArgumentError(f"to_yaml: unknown argument {sorted(bad)[0]!r}")
    return kwargs


def _compile(pattern: str, ignorecase: bool, multiline: bool) -> regex.Pattern[str]:
    flags = regex.VERSION0 | (regex.IGNORECASE if ignorecase else 0) | \
        (regex.MULTILINE if multiline else 0)
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise FilterArgumentError(f"regular expression {pattern!r}: {exc}") from None


def _text(value: Any, what: str) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > REGEX_MAX_INPUT:
        raise FilterArgumentError(f"{what}: input of {len(text)} characters is over the "
                                  f"limit of {REGEX_MAX_INPUT}")
    return text


def regex_replace(value: Any = "", pattern: str = "", replacement: str = "",
                  ignorecase: bool = False, multiline: bool = False, count: int = 0,
                  mandatory_count: int = 0) -> str:
    """Ansible's `regex_replace`: Python regex syntax, `\\1`/`\\g<name>` in the replacement;
    `count` limits replacements, `mandatory_count` requires exactly that many matches."""
    text = _text(value, "regex_replace")
    compiled = _compile(pattern, ignorecase, multiline)
    try:
        out, n = compiled.subn(replacement, text, count=count, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise FilterArgumentError(f"regex_replace: {pattern!r} took over {REGEX_TIMEOUT:g}s "
                                  "(catastrophic backtracking?)") from None
    except (regex.error, IndexError) as exc:
        raise FilterArgumentError(f"regex_replace: replacement {replacement!r}: {exc}") from None
    if mandatory_count and n != mandatory_count:
        raise FilterArgumentError(f"regex_replace: {n} match(es) of {pattern!r}, "
                                  f"{mandatory_count} required")
    return out


def regex_search(value: Any, pattern: str, *groups: str, ignorecase: bool = False,
                 multiline: bool = False) -> Any:
    """Ansible's `regex_search`: the first match, or None; with group arguments (`'\\1'`,
    `'\\g<name>'`) the list of those groups of the first match."""
    text = _text(value, "regex_search")
    compiled = _compile(pattern, ignorecase, multiline)
    try:
        match = compiled.search(text, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise FilterArgumentError(f"regex_search: {pattern!r} took over {REGEX_TIMEOUT:g}s "
                                  "(catastrophic backtracking?)") from None
    if match is None:
        return None
    if not groups:
        return match.group(0)
    out = []
    for arg in groups:
        if arg.startswith("\\g<") and arg.endswith(">"):
            key: int | str = arg[3:-1]
        elif arg.startswith("\\") and arg[1:].isdigit():
            key = int(arg[1:])
        else:
            raise FilterArgumentError(f"regex_search: unknown group argument {arg!r}; "
                                      "use '\\1' or '\\g<name>'")
        try:
            out.append(match.group(key))
        except (IndexError, regex.error):
            raise FilterArgumentError(f"regex_search: no group {arg!r} in {pattern!r}") from None
    return out


def b64encode(value: Any, encoding: str = "utf-8") -> str:
    """Ansible's `b64encode`: the text's bytes (UTF-8) in base64."""
    return base64.b64encode(str(value).encode(encoding)).decode("ascii")


def b64decode(value: Any, encoding: str = "utf-8") -> str:
    """Ansible's `b64decode`: base64 back to text (UTF-8)."""
    try:
        return base64.b64decode(str(value), validate=False).decode(encoding)
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise FilterArgumentError(f"b64decode: {exc}") from None


def mandatory(value: Any, msg: str | None = None) -> Any:
    """Ansible's `mandatory`: refuse an undefined value, with `msg` when given."""
    if isinstance(value, Undefined):
        name = getattr(value, "_undefined_name", None)
        raise UndefinedError(msg or f"mandatory variable {name!r} is not defined"
                             if name else msg or "mandatory variable is not defined")
    return value


def quote(value: Any) -> str:
    """Ansible's `quote`: quoted for a POSIX shell (None is the empty string)."""
    return shlex.quote("" if value is None else str(value))


def ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    """Ansible's `ternary`: `true_val` if the value is truthy, else `false_val`; `none_val`
    (when given) for None."""
    if value is None and none_val is not None:
        return none_val
    return true_val if bool(value) else false_val


_LIST_MERGES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def combine(*terms: Any, recursive: bool = False, list_merge: str = "replace") -> dict:
    """Ansible's `combine`: later dictionaries win; `recursive` merges nested ones;
    `list_merge` says what happens to two lists (replace, keep, append, prepend,
    append_rp, prepend_rp — the `_rp` forms drop from the first list what the second
    holds)."""
    if list_merge not in _LIST_MERGES:
        raise FilterArgumentError(f"combine: list_merge {list_merge!r} is not one of "
                                  f"{', '.join(_LIST_MERGES)}")
    dicts: list[Mapping] = []
    for term in terms:
        items = term if isinstance(term, list | tuple) else [term]
        for item in items:
            if not isinstance(item, Mapping):
                raise FilterArgumentError(f"combine: expects dictionaries, got "
                                          f"{type(item).__name__}")
            dicts.append(item)
    out: dict = {}
    for item in dicts:
        out = _merge(out, item, recursive, list_merge)
    return out


def _merge(a: Mapping, b: Mapping, recursive: bool, list_merge: str) -> dict:
    out = dict(a)
    for key, new in b.items():
        old = out.get(key)
        if recursive and isinstance(old, Mapping) and isinstance(new, Mapping):
            out[key] = _merge(old, new, recursive, list_merge)
        elif isinstance(old, list) and isinstance(new, list):
            out[key] = _merge_lists(old, new, list_merge)
        else:
            out[key] = new
    return out


def _merge_lists(old: list, new: list, how: str) -> list:
    if how == "keep":
        return old
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    if how == "append_rp":
        return [x for x in old if x not in new] + new
    if how == "prepend_rp":
        return new + [x for x in old if x not in new]
    return new


def dict2items(value: Any, key_name: str = "key", value_name: str = "value") -> list[dict]:
    """Ansible's `dict2items`: `{a: 1}` → `[{key: a, value: 1}]`."""
    if not isinstance(value, Mapping):
        raise FilterArgumentError(f"dict2items: expects a dictionary, got {type(value).__name__}")
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(value: Any, key_name: str = "key", value_name: str = "value") -> dict:
    """Ansible's `items2dict`: `[{key: a, value: 1}]` → `{a: 1}`."""
    if not isinstance(value, list | tuple):
        raise FilterArgumentError(f"items2dict: expects a list, got {type(value).__name__}")
    out = {}
    for item in value:
        if not isinstance(item, Mapping) or key_name not in item or value_name not in item:
            raise FilterArgumentError(f"items2dict: each item needs {key_name!r} and "
                                      f"{value_name!r}")
        out[item[key_name]] = item[value_name]
    return out


ANSIBLE_FILTERS: dict[str, Callable[..., Any]] = {
    "bool": to_bool, "to_json": to_json, "to_nice_json": to_nice_json, "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml, "regex_replace": regex_replace, "regex_search": regex_search,
    "b64encode": b64encode, "b64decode": b64decode, "mandatory": mandatory, "quote": quote,
    "ternary": ternary, "combine": combine, "dict2items": dict2items, "items2dict": items2dict,
}

__all__ = ["ANSIBLE_FILTERS", "StrictUndefined"]
