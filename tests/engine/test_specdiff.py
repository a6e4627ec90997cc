"""The pure spec comparison: resources added/removed/changed by address, keys old → new."""

from __future__ import annotations

from typing import Any

from engine.spec.models import Environment
from engine.specdiff import (
    FileChange,
    compare_specs,
    flatten,
    render_spec_diff_text,
    spec_diff_lines,
)


def _env(**sections: Any) -> Environment:
    base: dict[str, Any] = {
        "environment": "shop",
        "sites": {"primary": {}},
        "hosts": {"node-a": {"site": "primary", "root": "/srv"}},
        "products": {"wso2am-4.2.0": {"pack": "/packs/am.zip"}},
        "servers": {"gw-1": {"host": "node-a", "product": "wso2am-4.2.0", "home": "gw-1",
                             "update_level": 14, "patches": ["WSO2-CARBON-PATCH-4.9.0-0001"]}},
        "databases": {"app_db": {"engine": "sqlite", "path": "app.db"},
                      "old_db": {"engine": "sqlite", "path": "old.db"}},
    }
    base.update(sections)
    return Environment.model_validate(base)


def test_identical_specs_give_an_empty_diff() -> None:
    diff = compare_specs(_env(), _env(), base_ref="main")
    assert diff.empty
    assert diff.resources == ()
    assert spec_diff_lines(diff) == ["  (no changes to the spec folder)"]


def test_added_removed_and_changed_resources_by_address() -> None:
    after = _env(
        servers={"gw-1": {"host": "node-a", "product": "wso2am-4.2.0", "home": "gw-1",
                          "update_level": 15,
                          "patches": ["WSO2-CARBON-PATCH-4.9.0-0001",
                                      "WSO2-CARBON-PATCH-4.9.0-0002"]}},
        databases={"app_db": {"engine": "sqlite", "path": "app.db"},
                   "new_db": {"engine": "sqlite", "path": "new.db"}},
    )
    diff = compare_specs(_env(), after, base_ref="main", base_commit="a" * 40)
    assert diff.addresses("added") == ("database.new_db",)
    assert diff.addresses("removed") == ("database.old_db",)
    assert diff.addresses("changed") == ("server.gw-1",)
    changed = next(r for r in diff.resources if r.address == "server.gw-1")
    keys = {k.key: (k.status, k.before, k.after) for k in changed.keys}
    assert keys == {
        "update_level": ("changed", 14, 15),
        "patches": ("changed", ["WSO2-CARBON-PATCH-4.9.0-0001"],
                    ["WSO2-CARBON-PATCH-4.9.0-0001", "WSO2-CARBON-PATCH-4.9.0-0002"]),
    }


def test_added_and_removed_resources_list_no_keys() -> None:
    diff = compare_specs(_env(databases={}), _env(), base_ref="main")
    assert [(r.address, r.status, r.keys) for r in diff.resources] == [
        ("database.app_db", "added", ()), ("database.old_db", "added", ())]


def test_nested_keys_use_dotted_paths_and_quote_paths_with_dots() -> None:
    server = {"host": "node-a", "product": "wso2am-4.2.0", "home": "gw-1",
              "config": {"repository/conf/deployment.toml": {"content": "a", "vars": {"x": 1}}}}
    changed = {**server, "config": {"repository/conf/deployment.toml": {"content": "a",
                                                                         "vars": {"x": 2}}}}
    diff = compare_specs(_env(servers={"gw-1": server}), _env(servers={"gw-1": changed}),
                         base_ref="main")
    (res,) = diff.resources
    assert [k.key for k in res.keys] == ['config."repository/conf/deployment.toml".vars.x']
    assert (res.keys[0].before, res.keys[0].after) == (1, 2)


def test_key_set_to_its_default_is_no_change() -> None:
    explicit = _env(sites={"primary": {"description": ""}})
    assert compare_specs(_env(), explicit, base_ref="main").empty


def test_added_optional_key_shows_as_changed_from_null() -> None:
    after = _env(sites={"primary": {"description": "Colombo"}})
    diff = compare_specs(_env(), after, base_ref="main")
    (res,) = diff.resources
    assert res.address == "site.primary"
    assert [(k.key, k.before, k.after) for k in res.keys] == [("description", "", "Colombo")]


def test_settings_changes_are_reported_under_settings() -> None:
    before = _env(vars={"world": "/a"})
    after = _env(vars={"world": "/b", "extra": 1})
    diff = compare_specs(before, after, base_ref="main")
    (res,) = diff.resources
    assert res.address == "settings"
    assert {k.key: k.status for k in res.keys} == {"vars.extra": "added", "vars.world": "changed"}


def test_base_missing_means_everything_added_except_settings() -> None:
    diff = compare_specs(None, _env(), base_ref="main")
    assert {r.status for r in diff.resources} == {"added"}
    assert "settings" not in [r.address for r in diff.resources]
    assert diff.addresses("added")[0] == "site.primary"  # section order, not alphabetical


def test_lists_of_mappings_are_walked_by_index() -> None:
    assert dict(flatten({"verify": [{"sql": "a"}, {"sql": "b"}]})) == {
        "verify[0].sql": "a", "verify[1].sql": "b"}
    assert dict(flatten({"patches": ["a", "b"], "empty": {}})) == {
        "patches": ["a", "b"], "empty": {}}


def test_text_lines_show_symbols_and_old_to_new_values() -> None:
    after = _env(servers={"gw-1": {"host": "node-a", "product": "wso2am-4.2.0", "home": "gw-1",
                                   "update_level": 15,
                                   "patches": ["WSO2-CARBON-PATCH-4.9.0-0001"]}},
                 databases={"app_db": {"engine": "sqlite", "path": "app.db"}})
    diff = compare_specs(_env(), after, base_ref="origin/main", base_commit="0123456789abcdef",
                         files=[FileChange(path="templates/x.j2", status="changed")])
    text = render_spec_diff_text(diff)
    assert text.splitlines()[0] == ("Spec changes since origin/main (merge-base 0123456789): "
                                    "0 added, 1 removed, 1 changed; 1 other file(s)")
    assert "- database.old_db" in text
    assert "~ server.gw-1" in text
    assert "    ~ update_level: 14 → 15" in text
    assert "~ file templates/x.j2" in text


def test_long_values_are_cut() -> None:
    after = _env(sites={"primary": {"description": "x" * 500}})
    lines = spec_diff_lines(compare_specs(_env(), after, base_ref="main"), limit=40)
    value_line = next(line for line in lines if "description" in line)
    assert value_line.endswith("…")
    assert len(value_line) < 120


def test_base_error_is_reported_in_the_lines() -> None:
    diff = compare_specs(None, _env(), base_ref="main", base_error="a.yaml:1:1: bad")
    assert spec_diff_lines(diff)[0].startswith("! the spec at main did not parse (a.yaml:1:1")
