"""Editing YAML at key paths keeps every line no edit touches: comments, blank lines,
flow mappings over several lines, quoting, the column of trailing comments."""

from __future__ import annotations

import pytest

from engine.spec.rewrite import REMOVE, RewriteError, YamlEdit, rewrite

TEXT = """\
# The estate.
servers:
  gw-1:
    host: node-a      # Colombo
    home: "opt/gw-1"

  gw-2: {host: node-a, product: wso2am-4.2.0,
         home: opt/gw-2}
backups:
  db:
    copies: [dr-vault]   # the other site
    tags:
      - nightly
"""


def test_a_scalar_is_replaced_where_it_is_written() -> None:
    out = rewrite(TEXT, [YamlEdit(("servers", "gw-1", "host"), "node-b"),
                         YamlEdit(("servers", "gw-2", "host"), "node-b"),
                         YamlEdit(("servers", "gw-1", "home"), "opt/other")])
    assert out == TEXT.replace("host: node-a      #", "host: node-b      #").replace(
        "{host: node-a,", "{host: node-b,").replace('"opt/gw-1"', '"opt/other"')


def test_a_flow_list_is_replaced_in_place_and_values_that_need_quotes_get_them() -> None:
    out = rewrite(TEXT, [YamlEdit(("backups", "db", "copies"), ["primary-vault", "yes"])])
    assert '    copies: [primary-vault, "yes"]   # the other site\n' in out
    assert out.replace('[primary-vault, "yes"]', "[dr-vault]") == TEXT


def test_new_keys_and_removals_keep_the_comments() -> None:
    out = rewrite(TEXT, [YamlEdit(("recover", "primary"), {"hosts": {"node-b": "node-a"},
                                                          "repositories": ["pv"]}),
                         YamlEdit(("backups", "db", "tags"), REMOVE)])
    assert out.startswith("# The estate.\nservers:\n")
    assert "    host: node-a      # Colombo\n" in out and "# the other site" in out
    assert out.endswith("recover:\n  primary:\n    hosts: {node-b: node-a}\n"
                        "    repositories: [pv]\n")
    assert "nightly" not in out


def test_the_result_is_the_same_document_with_the_edit() -> None:
    import yaml

    out = rewrite(TEXT, [YamlEdit(("servers", "gw-2", "home"), "opt/x y")])
    want = yaml.safe_load(TEXT)
    want["servers"]["gw-2"]["home"] = "opt/x y"
    assert yaml.safe_load(out) == want


@pytest.mark.parametrize("text, path", [("a: [1, 2\n", ("a",)), ("- 1\n", ("a",)),
                                        ("a: 1\n", ("a", "b"))])
def test_what_cannot_be_edited_is_one_clear_error(text: str, path: tuple) -> None:
    with pytest.raises(RewriteError, match="^f.yaml: "):
        rewrite(text, [YamlEdit(path, {"k": "v"})], name="f.yaml")


def test_a_new_key_is_inserted_as_lines_and_nothing_else_moves() -> None:
    out = rewrite(TEXT, [YamlEdit(("servers", "gw-3"), {"host": "node-b", "home": "opt/gw-3"}),
                         YamlEdit(("backups", "db", "every"), "24h")])
    assert out == TEXT.replace("         home: opt/gw-2}\n",
                               "         home: opt/gw-2}\n  gw-3: {host: node-b, home: opt/gw-3}\n"
                               ).replace("      - nightly\n", "      - nightly\n    every: 24h\n")
