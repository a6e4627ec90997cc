"""Ansible's filters as roles use them, in the sandbox (expected values from Ansible's docs)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.spec.templating import TemplateRenderError, Templates


def render(source: str, **context: Any) -> str:
    return Templates().render(source, context)


@pytest.mark.parametrize("value, expected", [
    (True, "True"), ("yes", "True"), ("On", "True"), ("1", "True"), (1, "True"),
    ("TRUE", "True"), (False, "False"), ("no", "False"), ("off", "False"), ("0", "False"),
    (0, "False"), ("false", "False"), (None, "False"),
])
def test_bool(value: Any, expected: str) -> None:
    assert render("{{ v | bool }}", v=value) == expected


def test_bool_refuses_what_is_not_a_boolean() -> None:
    with pytest.raises(TemplateRenderError, match="'enabled' is not a boolean"):
        render("{{ 'enabled' | bool }}")


def test_json_filters() -> None:
    data = {"b": [1, "x"], "a": {"k": None}}
    assert render("{{ d | to_json }}", d=data) == '{"b": [1, "x"], "a": {"k": null}}'
    assert render("{{ d | to_nice_json }}", d=data) == (
        '{\n    "a": {\n        "k": null\n    },\n    "b": [\n        1,\n        "x"\n    ]\n}')
    assert render("{{ d | to_nice_json(indent=2) }}", d={"a": 1}) == '{\n  "a": 1\n}'


def test_yaml_filters() -> None:
    data = {"b": [1, 2], "a": "ü"}
    assert render("{{ d | to_yaml }}", d=data) == "a: ü\nb: [1, 2]\n"
    assert render("{{ d | to_nice_yaml }}", d=data) == "a: ü\nb:\n- 1\n- 2\n"
    assert render("{{ d | to_nice_yaml(indent=2) }}", d={"a": {"b": 1}}) == "a:\n  b: 1\n"


def test_regex_replace() -> None:
    assert render(r"{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\\1') }}") == "able"
    assert render(r"{{ 'foobar' | regex_replace('^f.*o(.*)$', '\\1') }}") == "bar"
    assert render("{{ 'localhost:80' | regex_replace('^(?P<host>.+):(?P<port>\\\\d+)$', "
                  "'\\\\g<host>, \\\\g<port>') }}") == "localhost, 80"
    assert render("{{ 'aaa' | regex_replace('A', 'b', ignorecase=true, count=2) }}") == "bba"
    with pytest.raises(TemplateRenderError, match="1 match"):
        render("{{ 'abc' | regex_replace('a', 'x', mandatory_count=2) }}")


def test_regex_search() -> None:
    assert render("{{ 'server1/database42' | regex_search('database[0-9]+') }}") == "database42"
    assert render("{{ 'x' | regex_search('y') }}") == "None"
    assert render(r"{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)',"
                  r" '\\1', '\\2') }}") == "['1', '42']"
    assert render(r"{{ 'ab' | regex_search('(?P<x>b)', '\\g<x>') }}") == "['b']"
    assert render("{{ 'FOO' | regex_search('foo', ignorecase=true) }}") == "FOO"


def test_catastrophic_regex_is_stopped_by_the_time_limit() -> None:
    with pytest.raises(TemplateRenderError, match="took over 1s"):
        render("{{ s | regex_search('^(a|aa)+$') }}", s="a" * 60 + "b")


def test_regex_input_size_is_bounded() -> None:
    with pytest.raises(TemplateRenderError, match="over the limit"):
        render("{{ s | regex_replace('a', 'b') }}", s="a" * (2 << 20))


def test_base64_quote_mandatory_default() -> None:
    assert render("{{ 'admin:pässword' | b64encode }}") == "YWRtaW46cMOkc3N3b3Jk"
    assert render("{{ 'YWRtaW46cMOkc3N3b3Jk' | b64decode }}") == "admin:pässword"
    assert render("{{ \"it's here\" | quote }}") == "'it'\"'\"'s here'"
    assert render("{{ x | mandatory }}", x=3) == "3"
    with pytest.raises(TemplateRenderError, match="mandatory variable 'x' is not defined"):
        render("{{ x | mandatory }}")
    with pytest.raises(TemplateRenderError, match="set the port"):
        render("{{ x | mandatory('set the port') }}")
    assert render("{{ x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}"
                  ) == "d||d"


def test_ternary() -> None:
    assert render("{{ (a == 1) | ternary('yes', 'no') }}", a=1) == "yes"
    assert render("{{ a | ternary('yes', 'no') }}", a=0) == "no"
    assert render("{{ a | ternary('yes', 'no', 'unset') }}", a=None) == "unset"
    assert render("{{ a | ternary('yes', 'no') }}", a=None) == "no"


def test_combine() -> None:
    a = {"a": 1, "b": {"x": 1, "l": [1, 2]}}
    b = {"b": {"y": 2, "l": [2, 3]}, "c": 3}
    assert render("{{ a | combine(b) }}", a=a, b=b) == (
        "{'a': 1, 'b': {'y': 2, 'l': [2, 3]}, 'c': 3}")
    assert render("{{ a | combine(b, recursive=true) }}", a=a, b=b) == (
        "{'a': 1, 'b': {'x': 1, 'l': [2, 3], 'y': 2}, 'c': 3}")
    assert render("{{ a | combine(b, recursive=true, list_merge='append_rp') }}", a=a, b=b) == (
        "{'a': 1, 'b': {'x': 1, 'l': [1, 2, 3], 'y': 2}, 'c': 3}")
    assert render("{{ [a, b] | combine }}", a={"k": 1}, b={"k": 2}) == "{'k': 2}"
    assert render("{{ {'k': [1]} | combine({'k': [2]}, list_merge='prepend') }}") == (
        "{'k': [2, 1]}")


def test_dict2items_and_items2dict() -> None:
    assert render("{{ {'a': 1, 'b': 2} | dict2items }}") == (
        "[{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}]")
    assert render("{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}") == (
        "[{'k': 'a', 'v': 1}]")
    assert render("{{ [{'key': 'a', 'value': 1}] | items2dict }}") == "{'a': 1}"
    assert render("{% for i in {'x': 1} | dict2items %}{{ i.key }}={{ i.value }}{% endfor %}"
                  ) == "x=1"
