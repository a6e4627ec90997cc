"""The `#jinja2:` first line: parsed as Ansible's template module parses it, bad ones refused."""

from __future__ import annotations

import pytest

from engine.spec.ansible_header import HeaderError, split_header
from engine.spec.templating import TemplateRenderError, Templates


def test_settings_are_python_literals_and_the_line_is_removed() -> None:
    body, settings = split_header("#jinja2: lstrip_blocks: True, variable_start_string: '[%'\nx")
    assert body == "x"
    assert settings == {"lstrip_blocks": True, "variable_start_string": "[%"}


def test_a_template_without_the_line_is_whole() -> None:
    assert split_header("# jinja2: not a header\nx") == ("# jinja2: not a header\nx", {})


@pytest.mark.parametrize("source, reason", [
    ("#jinja2: trim_blocks: False", "without a newline"),
    ("#jinja2: trim_blocks: False,\nx", "empty setting"),
    ("#jinja2: trim_blocks\nx", "has no ':'"),
    ("#jinja2: trim_blocks: nope\nx", "not a literal"),
    ("#jinja2: trim_blocks: 'yes'\nx", "not a valid value"),
    ("#jinja2: autoescape: True\nx", "not a setting"),
    ("#jinja2: newline_sequence: '\\t'\nx", "not a valid value"),
    ("#jinja2: variable_start_string: '{%'\nx", "must differ"),
])
def test_bad_lines_are_refused(source: str, reason: str) -> None:
    with pytest.raises(HeaderError, match=reason):
        split_header(source)


def test_only_ansible_whitespace_reads_the_line() -> None:
    source = "#jinja2: lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\n"
    assert Templates("ansible").render(source, {}) == "x\n"
    assert Templates("jinja").render(source, {}).startswith("#jinja2:")


def test_errors_count_lines_from_the_top_of_the_file() -> None:
    with pytest.raises(TemplateRenderError) as bad:
        Templates("ansible").render("#jinja2: trim_blocks: False\nok\n{{ missing }}\n", {})
    assert bad.value.line == 3
    with pytest.raises(TemplateRenderError) as syntax:
        Templates("ansible").render("#jinja2: trim_blocks: False\nok\n{% if %}\n", {})
    assert syntax.value.line == 3
    with pytest.raises(TemplateRenderError, match="has no ':'") as header:
        Templates("ansible").render("#jinja2: x\nok\n", {})
    assert header.value.line == 1
