"""The `#jinja2:` first line of a template, as Ansible's template module reads it (pure).

A role's template may start with `#jinja2: lstrip_blocks: True, trim_blocks: False`: the
line is removed and its settings override the environment's for that file. Values are
Python literals (`True`, `'[%'`); keys are the ones Ansible accepts. Example:

    >>> split_header("#jinja2: lstrip_blocks: True\\nx")
    ('x', {'lstrip_blocks': True})
"""

from __future__ import annotations

import ast
from typing import Any

PREFIX = "#jinja2:"
_STRINGS = ("block_start_string", "block_end_string", "variable_start_string",
            "variable_end_string", "comment_start_string", "comment_end_string")
_OPTIONAL = ("line_statement_prefix", "line_comment_prefix")
_FLAGS = ("trim_blocks", "lstrip_blocks", "keep_trailing_newline")
_NEWLINES = ("\n", "\r\n", "\r")


class HeaderError(ValueError):
    """The `#jinja2:` line is malformed; the message says how, in one line."""


def split_header(source: str) -> tuple[str, dict[str, Any]]:
    """`(the template without its header line, the settings it gives)`; a template without
    a header comes back whole with no settings. Raises HeaderError."""
    if not source.startswith(PREFIX):
        return source, {}
    eol = source.find("\n")
    if eol == -1:
        raise HeaderError(f"{PREFIX} line without a newline after it")
    settings: dict[str, Any] = {}
    for pair in source[len(PREFIX):eol].split(","):
        if not pair.strip():
            raise HeaderError(f"an empty setting in the {PREFIX} line")
        if ":" not in pair:
            raise HeaderError(f"{pair.strip()!r} in the {PREFIX} line has no ':'")
        key, raw = (part.strip() for part in pair.split(":", 1))
        settings[key] = _value(key, raw)
    starts = [settings.get(k, d) for k, d in (("block_start_string", "{%"),
                                              ("variable_start_string", "{{"),
                                              ("comment_start_string", "{#"))]
    if len(set(starts)) != 3:
        raise HeaderError("block, variable and comment start strings must differ")
    return source[eol + 1:], settings


def _value(key: str, raw: str) -> Any:
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        raise HeaderError(f"{key}: {raw!r} is not a literal (quote strings, write True/False)"
                          ) from None
    if key in _FLAGS and isinstance(value, bool):
        return value
    if key in _STRINGS and isinstance(value, str) and value:
        return value
    if key in _OPTIONAL and (value is None or isinstance(value, str)):
        return value
    if key == "newline_sequence" and value in _NEWLINES:
        return value
    if key not in (*_FLAGS, *_STRINGS, *_OPTIONAL, "newline_sequence"):
        raise HeaderError(f"{key!r} is not a setting the {PREFIX} line takes")
    raise HeaderError(f"{key}: {value!r} is not a valid value")
