"""Numbers a spec may hold: modes as strings, bounded update levels, SQL-style expect."""

from __future__ import annotations

import pytest

from engine.spec.data import parse_expect
from engine.spec.errors import SpecError
from engine.spec.infra import parse_mode
from engine.spec.parse import SourceFile, parse_environment

SPEC = """\
environment: t
sites: {primary: {}}
hosts: {node-a: {site: primary, root: /srv}}
products: {p-1.0: {pack: /p.zip, updates: /u}}
servers:
  gw-1:
    host: node-a
    product: p-1.0
    home: opt/gw-1
    update_level: %s
    config:
      conf/a: {content: x, mode: %s}
"""


def load(level: str = "14", mode: str = '"0640"') -> object:
    return parse_environment([SourceFile("s.yaml", SPEC % (level, mode))])


def issues(level: str = "14", mode: str = '"0640"') -> list[str]:
    with pytest.raises(SpecError) as info:
        load(level, mode)
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize("written, mode", [
    ('"0640"', 0o640), ('"640"', 0o640), ('"0o600"', 0o600), ('"0000"', 0), ('"0777"', 0o777),
    ("0640", 0o640),  # unquoted YAML 1.1 octal is already a number in octal
    ("420", 0o644),  # older specs wrote the number
])
def test_modes(written: str, mode: int) -> None:
    env = load(mode=written)
    assert env.servers["gw-1"].config["conf/a"].mode == mode  # type: ignore[attr-defined]


@pytest.mark.parametrize("written, why", [
    ('"0999"', "is not a file mode"), ('"01777"', "is not a file mode"),
    ('"rw-r--r--"', "is not a file mode"), ("644", "reads as the number 644"),
    ("400", "reads as the number 400"), ("4096", "outside 0 to 0777"), ("true", "must be a string"),
])
def test_bad_modes_are_located(written: str, why: str) -> None:
    [line] = issues(mode=written)
    assert line.startswith("s.yaml:12:") and why in line, line


def test_parse_mode_doc_example() -> None:
    assert parse_mode("0640") == 0o640


@pytest.mark.parametrize("level", ["99999999999", "10000", "-2"])
def test_update_level_out_of_range(level: str) -> None:
    assert issues(level=level) == [
        f"s.yaml:10:19: servers.gw-1.update_level: update level {level} is out of range: "
        "levels run from -1 (never updated) to 9999"]


def test_update_level_bounds_are_accepted() -> None:
    assert load(level="9999").servers["gw-1"].update_level == 9999  # type: ignore[attr-defined]
    assert load(level="-1").servers["gw-1"].update_level == -1  # type: ignore[attr-defined]


@pytest.mark.parametrize("text, op, holds, fails", [
    ("= 500", "==", 500, 499), ("=500", "==", "500", 1), ("<> 0", "!=", 3, 0),
    ("== 3", "==", 3, 4), (">= 1", ">=", 1, 0), ("= ok", "==", "ok", "no"),
])
def test_expect_accepts_sql_equality(text: str, op: str, holds: object, fails: object) -> None:
    expectation = parse_expect(text)
    assert expectation.op == op
    assert expectation.holds(holds) and not expectation.holds(fails)


def test_expect_still_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="is not a comparison"):
        parse_expect("about 5")
