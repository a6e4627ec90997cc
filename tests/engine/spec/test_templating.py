"""Hostile templates fail fast as one located line; placeholders pass through."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.desired import build_desired
from engine.desired.servers import DesiredStateError
from engine.spec.errors import SpecError
from engine.spec.loader import load_spec
from engine.spec.parse import SourceFile, parse_environment
from engine.spec.sandbox import MAX_OUTPUT, MAX_STEPS
from engine.spec.templating import TemplateRenderError, Templates

SPEC = """\
environment: t
sites: {primary: {}}
hosts: {node-a: {site: primary, root: /srv}}
products: {p-1.0: {pack: /p.zip}}
servers:
  gw-1:
    host: node-a
    product: p-1.0
    home: opt/gw-1
    config:
      conf/a.toml: {template: t.j2}
      conf/b.toml:
        content: "%s"
"""


def failure(source: str) -> TemplateRenderError:
    with pytest.raises(TemplateRenderError) as info:
        Templates().render(source, {})
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("source, message", [
    ("{{ 1/0 }}", "ZeroDivisionError: division by zero"),
    ("{{ nope }}", "'nope' is undefined"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     f"more than {MAX_STEPS} loop iterations"),
    ("{% for i in range(99999) %}{{ 'x' * 9999 }}{% endfor %}",
     f"output over {MAX_OUTPUT} characters"),
    ("{{ 'x' * 1000000000 }}", "repeating 1 items 1000000000 times is over the limit"),
    ("{{ [0] * 1000000000 }}", "repeating 1 items 1000000000 times is over the limit"),
    ("{{ 10 ** 100000 }}", "10 ** 100000 is over the limit"),
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
     "{% endfor %}", "characters is over the limit"),
    ("{{ 'x' | center(1000000000) }}", "argument 1000000000 is over the limit of 10000"),
    ("{{ 'x'.ljust(1000000000) }}", "argument 1000000000 is over the limit of 10000"),
    ("{{ '%0999999999d' % 1 }}", "format width of 10000 or more"),
    ("{{ '{:>999999999}'.format(1) }}", "format width of 10000 or more"),
    ("{{ '%0999999999d' | format(1) }}", "format width of 10000 or more"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion too deep"),
    ("{{ ''.__class__.__mro__ }}", "is unsafe"),
    ("{% if %}", "Expected an expression"),
])
def test_hostile_templates_fail_in_one_line(source: str, message: str) -> None:
    assert message in str(failure(source))


def test_the_failing_template_line_is_known() -> None:
    assert failure("a\nb\n{{ 1/0 }}\n").line == 3
    assert failure("a\n{% for x in %}\n").line == 2


def test_ordinary_use_is_not_bounded() -> None:
    out = Templates().render("{% for p in range(32000, 32003) %}{{ p | default(10443) }} "
                             "{% endfor %}{{ 'x' * 80 }}", {})
    assert out == "32000 32001 32002 " + "x" * 80


def test_carbon_placeholders_pass_through() -> None:
    text = 'host = "${carbon.host}"\npw = "$secret{admin}"\nurl = "$ref{db.url}"\n{{ a }}\n'
    assert Templates().render(text, {"a": 1}) == text.replace("{{ a }}", "1")


def write(tmp_path: Path, template: str, content: str = "x") -> Path:
    (tmp_path / "t.j2").write_text(template)
    (tmp_path / "env.yaml").write_text(SPEC % content)
    return tmp_path


def test_config_template_error_points_at_the_template_line(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "[a]\nx = {{ 1/0 }}\n"))
    with pytest.raises(DesiredStateError) as info:
        build_desired(spec)
    [issue] = info.value.issues
    assert str(issue).endswith("t.j2:2:1: template: ZeroDivisionError: division by zero "
                               "(server gw-1, conf/a.toml)")


def test_inline_content_error_points_at_the_spec_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(write(tmp_path, "ok\n", "{{ undefined_thing }}"))
    assert [str(i).split("/")[-1] for i in info.value.issues] == [
        "env.yaml:13:18: template: 'undefined_thing' is undefined"]


def test_a_template_that_renders_gigabytes_is_stopped(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "{% for i in range(99999) %}{% for j in range(99) %}"
                                     "{{ 'y' * 9999 }}{% endfor %}{% endfor %}"))
    with pytest.raises(DesiredStateError) as info:
        build_desired(spec)
    assert "output over" in str(info.value)


def test_spec_strings_fail_at_their_line() -> None:
    text = SPEC.replace("home: opt/gw-1", "home: \"{{ 1/0 }}\"") % "x"
    with pytest.raises(SpecError) as info:
        parse_environment([SourceFile("s.yaml", text)])
    assert [str(i) for i in info.value.issues] == [
        "s.yaml:9:11: template: ZeroDivisionError: division by zero"]
