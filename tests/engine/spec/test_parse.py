"""Spec parsing: merged files, templating, validation and cross references with positions."""

from __future__ import annotations

import pytest

from engine.spec.errors import SpecError
from engine.spec.parse import SourceFile, parse_environment

GOOD = """\
environment: demo
vars: {world: /srv/world, v: 4.2.0, pack: "{{ world }}/packs"}
sites: {primary: {}}
hosts:
  node-a: {site: primary, root: "{{ world }}/primary"}
products:
  wso2am-4.2.0: {pack: "{{ pack }}/wso2am-{{ v }}.zip", patches: /p}
"""


def issues(files: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_environment([SourceFile(n, t) for n, t in files.items()])
    return [str(i) for i in info.value.issues]


def test_files_merge_and_vars_render_in_order() -> None:
    servers = "servers:\n  gw-1: {host: node-a, product: wso2am-4.2.0, home: opt/gw}\n"
    env = parse_environment([SourceFile("a.yaml", GOOD), SourceFile("b.yaml", servers)])
    assert env.hosts["node-a"].root == "/srv/world/primary"
    assert env.products["wso2am-4.2.0"].pack == "/srv/world/packs/wso2am-4.2.0.zip"
    assert env.servers["gw-1"].home == "opt/gw"


def test_three_mistakes_in_two_files_are_all_reported_with_positions() -> None:
    second = (
        "servers:\n"
        "  gw-1:\n"
        "    host: node-z\n"                 # unknown host (line 3)
        "    product: wso2am-4.2.0\n"
        "    home: opt/gw\n"
        "    update_levle: 3\n"              # misspelt key (line 6)
    )
    first = GOOD.replace("node-a: {site: primary,", "node-a: {site: nowhere,")
    found = issues({"a.yaml": first, "b.yaml": second})
    assert len(found) == 3, found
    assert found[0].startswith("a.yaml:5:") and "unknown site 'nowhere'" in found[0]
    assert found[1].startswith("b.yaml:3:11:") and "unknown host 'node-z'" in found[1]
    assert found[2].startswith("b.yaml:6:") and "update_levle" in found[2]


def test_yaml_syntax_error_has_position() -> None:
    found = issues({"bad.yaml": "environment: x\nsites: {a: [1,\n"})
    assert found and found[0].startswith("bad.yaml:")


def test_duplicate_resource_across_files_names_first_place() -> None:
    b = "sites: {primary: {}}\n"
    found = issues({"a.yaml": GOOD, "b.yaml": b})
    assert found == ["b.yaml:1:9: sites.primary is already declared at a.yaml:3"] or \
        "already declared at a.yaml:3" in found[0]


def test_undefined_template_variable_is_an_error_at_its_string() -> None:
    text = GOOD.replace('"{{ world }}/primary"', '"{{ nope }}/primary"')
    found = issues({"a.yaml": text})
    assert len(found) == 1
    assert found[0].startswith("a.yaml:5:") and "'nope' is undefined" in found[0]


def test_sandbox_refuses_unsafe_attribute_access() -> None:
    text = GOOD.replace('"{{ world }}/primary"', '"{{ world.__class__.__mro__ }}"')
    found = issues({"a.yaml": text})
    assert "template" in found[0]


def test_missing_environment_key() -> None:
    found = issues({"a.yaml": "sites: {a: {}}\n"})
    assert "environment" in found[0]


def test_duration_and_union_validation_positions() -> None:
    extra = (
        "databases:\n  db: {engine: sqlite, path: /x.db}\n"
        "repositories:\n  r: {type: local, site: primary, path: /r}\n"
        "backups:\n  b: {source: {database: db}, every: 3 days, repository: r}\n"
    )
    found = issues({"a.yaml": GOOD, "b.yaml": extra})
    assert len(found) == 1 and found[0].startswith("b.yaml:6:") and "duration" in found[0]
