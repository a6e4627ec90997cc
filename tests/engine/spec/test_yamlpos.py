"""The YAML reader on hostile input: every attack fails fast as one located issue."""

from __future__ import annotations

import pytest

from engine.spec.yamlpos import MAX_ALIAS_NODES, MAX_DEPTH, Pos, SpecSyntaxError, parse_yaml

# The classic "billion laughs": nine levels, each nine aliases of the one before (9**9
# strings when expanded), in a few hundred bytes.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def only_issue(text: str) -> str:
    with pytest.raises(SpecSyntaxError) as info:
        parse_yaml("s.yaml", text)
    assert len(info.value.issues) == 1, info.value.issues
    line = str(info.value.issues[0])
    assert "\n" not in line
    return line


def test_alias_bomb_stops_at_the_alias_that_goes_over_the_budget() -> None:
    assert len(ALIAS_BOMB) < 600
    line = only_issue(ALIAS_BOMB)
    assert line.startswith("s.yaml:6:")  # level f is the first to pass 100000 values
    assert f"expand to more than {MAX_ALIAS_NODES} values" in line


def test_small_aliases_and_merge_keys_still_work() -> None:
    parsed = parse_yaml("s.yaml", "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\ny: *b\n")
    assert parsed.data == {"base": {"a": 1, "b": 2}, "x": {"a": 1, "b": 3},
                           "y": {"a": 1, "b": 2}}
    assert parsed.positions[("x", "a")] == Pos("s.yaml", 3, 7)  # where the merge names it


def test_alias_to_no_anchor() -> None:
    assert only_issue("a: *nothing\n").startswith("s.yaml:1:4: YAML")


def test_deep_flow_nesting() -> None:
    # libyaml's scanner has its own cap (1000 flow levels) and reads ahead, so it may be
    # the one to refuse; either way it is one located line, at once
    line = only_issue("[" * 100_000 + "]" * 100_000)
    assert line.startswith("s.yaml:1:") and "nesting" in line


def test_nesting_is_capped_at_max_depth() -> None:
    line = only_issue("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n")
    # the top mapping is level 1, so the 64th bracket (column 3 + 64) is one too many
    assert line == f"s.yaml:1:{MAX_DEPTH + 3}: nesting deeper than {MAX_DEPTH} levels"


def test_deep_block_nesting() -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "v: 1\n"
    assert "nesting deeper than" in only_issue(text)


@pytest.mark.parametrize("text, where, tag", [
    ("x: !!python/object:os.system {}\n", "1:4", "!!python/object:os.system"),
    ("x: !!python/name:os.system ''\n", "1:4", "!!python/name:os.system"),
    ("x: !!binary aGk=\n", "1:4", "!!binary"),
    ("x: !custom 1\n", "1:4", "'!custom'"),
    ("x: !!set {a: null}\n", "1:4", "!!set"),
])
def test_unknown_tags_are_refused(text: str, where: str, tag: str) -> None:
    line = only_issue(text)
    assert line.startswith(f"s.yaml:{where}: YAML tag {tag} is not allowed"), line


def test_bad_timestamp() -> None:
    line = only_issue("created: !!timestamp not-a-date\n")
    assert line == ("s.yaml:1:10: 'not-a-date' is not a valid YAML timestamp (!!timestamp); "
                    "quote it to make it text")


def test_a_good_timestamp_and_plain_tags_are_fine() -> None:
    parsed = parse_yaml("s.yaml", "a: !!timestamp 2024-01-02\nb: !!str 12\nc: !!int '7'\n")
    assert str(parsed.data["a"]) == "2024-01-02" and parsed.data["b"] == "12"
    assert parsed.data["c"] == 7


def test_five_thousand_digit_integer() -> None:
    line = only_issue("update_level: " + "9" * 5000 + "\n")
    assert line == ("s.yaml:1:15: number with 5000 digits: numbers in a spec have at most 18 "
                    "digits (quote it to make it text)")


def test_bad_bool_and_int_under_explicit_tags() -> None:
    assert "is not a valid YAML int" in only_issue("a: !!int twelve\n")
    assert "is not a valid YAML bool" in only_issue("a: !!bool maybe\n")


def test_second_document() -> None:
    assert only_issue("a: 1\n---\nb: 2\n").startswith("s.yaml:2:1: a spec file holds one YAML")


def test_complex_keys() -> None:
    assert only_issue("? [a, b]\n: 1\n") == "s.yaml:1:3: mapping keys must be plain scalars"
    assert only_issue("{a: 1}: 2\n").endswith("mapping keys must be plain scalars")


def test_duplicate_keys_are_all_reported() -> None:
    with pytest.raises(SpecSyntaxError) as info:
        parse_yaml("s.yaml", "a: 1\nb: 2\na: 3\nb:\n  c: 4\n")
    assert [str(i) for i in info.value.issues] == [
        "s.yaml:3:1: duplicate key 'a' (first at line 1)",
        "s.yaml:4:1: duplicate key 'b' (first at line 2)"]


def test_syntax_error_and_bad_characters_are_located() -> None:
    assert only_issue("a: [1, 2\n").startswith("s.yaml:")
    assert only_issue("a: 1\nb: \x07\n").startswith("s.yaml:2:")


def test_positions_of_keys_values_and_items() -> None:
    parsed = parse_yaml("s.yaml", "servers:\n  gw-1:\n    patches: [p1, p2]\n    home: x\n")
    pos = parsed.positions
    assert pos[("servers", "gw-1", "<key>")] == Pos("s.yaml", 2, 3)
    assert pos[("servers", "gw-1", "patches", 1)] == Pos("s.yaml", 3, 19)
    assert pos[("servers", "gw-1", "home")] == Pos("s.yaml", 4, 11)


def test_yaml_11_scalars_resolve_as_the_safe_loader_does() -> None:
    import yaml

    text = ("a: 0640\nb: 0x1f\nc: yes\nd: ~\ne: 1.5\nf: .inf\ng: '0640'\nh: 1_000\n"
            "i: 2024-01-02\nj: 190:20:30\nk: ''\nl:\n")
    assert parse_yaml("s.yaml", text).data == yaml.safe_load(text)
