"""Templates written for Ansible render here byte for byte as Ansible renders them.

The expected bytes are not written down: every case is rendered by the real ansible-core
(`ansible-playbook`, the `template` module, local connection, into a temporary folder;
see tests/helpers/ansible.py) and by drydock with `whitespace: ansible`, and the two are
compared. All cases of this module go through one playbook run.

- a role's `deployment.toml.j2` in the shape of wso2/ansible-apim's (`|bool`,
  `loop.last`, `{%- -%}`, indented loop bodies, Carbon's own `${...}`, `$secret{...}`,
  `$ref{...}` placeholders), rendered through the spec (`whitespace: ansible`,
  `mode: "0640"`) for a set of variable combinations;
- one case per filter roles use, against Ansible's own output.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.desired import build_desired
from engine.spec.loader import load_spec
from engine.spec.templating import TemplateRenderError, Templates
from tests.helpers.ansible import ansible_playbook, render_with_ansible

pytestmark = [
    pytest.mark.skipif(ansible_playbook() is None, reason="ansible-core is not installed"),
    pytest.mark.xdist_group("ansible"),
]

DEPLOYMENT_TOML = (Path(__file__).parent / "templates" / "deployment.toml.j2").read_text()

BASE: dict[str, Any] = {
    "hostname": "gw.example.com", "ports_offset": 0, "server_role": "",
    "secure_vault_enabled": "false", "admin_username": "admin", "admin_password": "admin",
    "create_admin_account": "yes",
    "apim_db": {"type": "mysql", "url": "jdbc:mysql://db:3306/apim_db?useSSL=false",
                "username": "apimadmin"},
    "gateway_environments": [{"name": "Default", "host": "gw-1"}],
    "key_manager_url": "https://km:9443/services/",
    "throttling_url_groups": [{"urls": ["tcp://tm-1:9611", "tcp://tm-2:9611"]}],
    "decision_endpoints": ["tcp://tm-1:5672"],
    "https_properties": {"port": 9443, "proxyPort": 443, "server": "WSO2"},
    "analytics_enabled": False,
}

COMBINATIONS: list[dict[str, Any]] = [
    {},
    {"secure_vault_enabled": "True", "create_admin_account": "off", "analytics_enabled": "on",
     "server_role": "gateway-worker"},
    {"secure_vault_enabled": True, "gateway_environments": [], "throttling_url_groups": [],
     "decision_endpoints": [], "https_properties": {}},
    {"ports_offset": 3, "hostname": "gätewäy.example.com",
     "gateway_environments": [
         {"name": "us", "host": "gw-us", "type": "production", "console": "no"},
         {"name": "eu", "host": "gw-eu"}, {"name": "ap", "host": "gw-ap", "console": 1}],
     "throttling_url_groups": [{"urls": ["tcp://a:9611"]}, {"urls": []},
                               {"urls": ["tcp://b:9611", "tcp://c:9611", "tcp://d:9611"]}],
     "decision_endpoints": ["tcp://a:5672", "tcp://b:5672"]},
    {"apim_db": {**BASE["apim_db"], "pool": {"max_active": "150"}}, "analytics_enabled": "1",
     "https_properties": {"compression": "on", "maxThreads": 250, "ciphers": "A,B"}},
]

# (template, variables): each filter roles use, with the arguments they use.
D = {"b": [1, "x"], "a": {"k": None, "ü": "é"}, "n": 1.5, "t": True}
MERGE = {"a": {"a": 1, "b": {"x": 1, "l": [1, 2]}}, "b": {"b": {"y": 2, "l": [2, 3]}, "c": 3}}
YAML_DATA = {"long": "word " * 30, "multi": "a\nb\n", "q": "yes", "e": "", "c": "x: y",
             "u": "ü☃", "n": None, "f": 1.5, "nested": {"x": [1, {"y": 2}]}}
FILTER_CASES: list[tuple[str, dict[str, Any]]] = [
    *[("{{ v | bool }}", {"v": v}) for v in
      ("yes", "On", "TRUE", "1", "true", "no", "OFF", "0", "False", 1, 0, True, False, None)],
    ("{{ v | bool | lower }}", {"v": "false"}),
    ("{{ d | to_json }}", {"d": D}),
    ("{{ [1, 2] | to_json }}|{{ n | to_json }}|{{ true | to_json }}|{{ 'ü\"' | to_json }}",
     {"n": None}),
    ("{{ d | to_json(sort_keys=true) }}", {"d": {"b": 1, "a": 2}}),
    ("{{ d | to_nice_json }}", {"d": D}),
    ("{{ d | to_nice_json(indent=2) }}", {"d": D}),
    ("{{ d | to_nice_json(sort_keys=false) }}", {"d": {"b": 1, "a": 2}}),
    ("{{ d | to_yaml }}", {"d": D}),
    ("{{ d | to_yaml }}", {"d": YAML_DATA}),
    ("{{ 'x' | to_yaml }}|{{ 3 | to_yaml }}", {}),
    ("{{ l | to_yaml }}", {"l": ["a", "yes", "1", 2, None, "a: b"]}),
    ("{{ d | to_nice_yaml }}", {"d": D}),
    ("{{ d | to_nice_yaml }}", {"d": YAML_DATA}),
    ("{{ d | to_nice_yaml(indent=2) }}", {"d": D}),
    ("{{ l | to_nice_yaml }}", {"l": [{"a": 1, "b": [1, 2]}, "x"]}),
    (r"{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\\1') }}", {}),
    (r"{{ 'localhost:80' | regex_replace('^(?P<host>.+):(?P<port>\\d+)$', "
     r"'\\g<host>, \\g<port>') }}", {}),
    ("{{ 'aaa' | regex_replace('A', 'b', ignorecase=true, count=2) }}", {}),
    ("{{ v | regex_replace('^', '# ', multiline=true) }}", {"v": "a\nb"}),
    (r"{{ 'abcabc' | regex_replace('(b)', '[\\1]', count=1) }}", {}),
    ("{{ 'abc' | regex_replace('x', 'y') }}|{{ 42 | regex_replace('2', '3') }}", {}),
    ("{{ 'server1/database42' | regex_search('database[0-9]+') }}", {}),
    ("[{{ 'x' | regex_search('y') }}]", {}),
    (r"{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\\1', "
     r"'\\2') }}", {}),
    (r"{{ 'ab' | regex_search('(?P<x>b)', '\\g<x>') }}", {}),
    ("{{ 'FOO' | regex_search('foo', ignorecase=true) }}", {}),
    ("{{ v | regex_search('^line2', multiline=true) }}", {"v": "line1\nline2"}),
    ("{{ 'admin:pässword' | b64encode }}|{{ 'YWRtaW46cMOkc3N3b3Jk' | b64decode }}", {}),
    ("{{ 'Zm9v' | b64decode }}|{{ 42 | b64encode }}", {}),
    ("{{ x | mandatory }}|{{ x | mandatory('set x') }}", {"x": 3}),
    ("{{ v | quote }}", {"v": "it's here"}),
    ("{{ v | quote }}|{{ w | quote }}|{{ n | quote }}", {"v": "plain", "w": "a b$c", "n": None}),
    ("{{ x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|"
     "{{ n | default('d', true) }}|{{ f | default('d', true) }}|{{ n | default('d') }}",
     {"n": None, "f": False}),
    ("{{ (a == 1) | ternary('yes', 'no') }}|{{ b | ternary('yes', 'no') }}", {"a": 1, "b": 0}),
    ("{{ a | ternary('yes', 'no', 'unset') }}|{{ a | ternary('yes', 'no') }}|"
     "{{ s | ternary('yes', 'no') }}", {"a": None, "s": "false"}),
    ("{{ a | combine(b) }}", MERGE),
    ("{{ a | combine(b, recursive=true) }}", MERGE),
    ("{{ a | combine(b, recursive=true, list_merge='append_rp') }}", MERGE),
    ("{{ a | combine(b, list_merge='append_rp') }}|{{ a | combine(b, list_merge='prepend_rp') }}",
     {"a": {"l": [1, 2, 2, 5]}, "b": {"l": [2, 3]}}),
    ("{{ a | combine(b, list_merge='keep') }}|{{ a | combine(b, list_merge='prepend') }}",
     {"a": {"l": [1]}, "b": {"l": [2], "m": 1}}),
    ("{{ a | combine(b, recursive=true, list_merge='append') }}",
     {"a": {"x": {"l": [1]}}, "b": {"x": {"l": [2]}}}),
    ("{{ [a, b] | combine }}|{{ a | combine(b, c) }}", {"a": {"k": 1}, "b": {"k": 2},
                                                       "c": {"j": 3}}),
    ("{{ {'a': 1, 'b': 2} | dict2items }}", {}),
    ("{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}", {}),
    ("{{ [{'key': 'a', 'value': 1}] | items2dict }}", {}),
    ("{% for i in d | dict2items %}{{ i.key }}={{ i.value }}\n{% endfor %}",
     {"d": {"x": 1, "y": [2]}}),
    # how values print, and the whitespace rules
    ("{{ n }}|{{ l }}|{{ d }}|{{ 1.0 }}|{{ t }}", {"n": None, "l": [1, "a", None],
                                                 "d": {"k": "v"}, "t": True}),
    ("a\n{% if true %}\nb\n{% endif %}\n  {% if true %}\nc\n  {% endif %}\n", {}),
    ("x\n\n\n", {}), ("x", {}), ("{{ 'x' }}\n{% if false %}y{% endif %}\n", {}),
    ("${carbon.host} $secret{a} $ref{b.c} ${admin.username}\n", {}),
    # a `#jinja2:` first line overrides the whitespace rules for its file
    ("#jinja2: lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\ny\n", {}),
    ("#jinja2: trim_blocks: False, lstrip_blocks: True\n{% if true %}\nx\n{% endif %}\n", {}),
    ("#jinja2: variable_start_string: '[%', variable_end_string: '%]'\n[% v %] {{ v }}\n",
     {"v": 1}),
    ("#jinja2: keep_trailing_newline: True\nx\n\n", {}),
]


@pytest.fixture(scope="module")
def ansible_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """Everything this module compares against, from one ansible-playbook run."""
    cases = [(DEPLOYMENT_TOML, {**BASE, **combo}) for combo in COMBINATIONS] + FILTER_CASES
    out = render_with_ansible(cases, tmp_path_factory.mktemp("ansible"))
    return {"toml": out[:len(COMBINATIONS)], "filters": out[len(COMBINATIONS):]}


def render_through_spec(root: Path, variables: Mapping[str, Any]) -> tuple[bytes, int]:
    """The file drydock renders for a server whose config is the template, and its mode."""
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "deployment.toml.j2").write_text(DEPLOYMENT_TOML)
    spec = {
        "environment": "t", "sites": {"primary": {}},
        "hosts": {"node-a": {"site": "primary", "root": "/srv"}},
        "products": {"wso2am-4.2.0": {"pack": "/p.zip"}},
        "servers": {"gw-1": {
            "host": "node-a", "product": "wso2am-4.2.0", "home": "opt/gw-1",
            "config": {"repository/conf/deployment.toml": {
                "template": "templates/deployment.toml.j2", "whitespace": "ansible",
                "mode": "0640", "vars": dict(variables)}}}},
    }
    (root / "env.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    loaded = load_spec(root)
    config = loaded.env.servers["gw-1"].config["repository/conf/deployment.toml"]
    text = build_desired(loaded)["server.gw-1"].files["repository/conf/deployment.toml"]
    return text.encode("utf-8"), config.mode


@pytest.mark.parametrize("index", range(len(COMBINATIONS)))
def test_deployment_toml_renders_as_under_ansible(
        tmp_path: Path, ansible_output: dict[str, list[bytes]], index: int) -> None:
    expected = ansible_output["toml"][index]
    got, mode = render_through_spec(tmp_path, {**BASE, **COMBINATIONS[index]})
    assert got == expected
    assert mode == 0o640
    text = got.decode()
    assert 'node_ip = "${carbon.host}"' in text
    assert 'username = "$ref{super_admin.username}"' in text


def test_the_combinations_exercise_both_branches(ansible_output: dict[str, list[bytes]]) -> None:
    """The comparison means something: vault on and off, loops empty and long."""
    plain, vault, empty, many, _ = (b.decode() for b in ansible_output["toml"])
    assert 'password = "admin"' in plain and "[secrets]" not in plain
    assert 'password = "$secret{admin_password}"' in vault and "[secrets]" in vault
    assert "[apim.analytics]\nenable = true\n" in vault
    assert "[[apim.gateway.environment]]" not in empty
    assert many.count("[[apim.gateway.environment]]") == 3
    assert '"tcp://b:9611","tcp://c:9611","tcp://d:9611"]' in many


@pytest.mark.parametrize("index", range(len(FILTER_CASES)),
                         ids=[f"{i}:{c[0][:40]}" for i, c in enumerate(FILTER_CASES)])
def test_filter_as_under_ansible(ansible_output: dict[str, list[bytes]], index: int) -> None:
    source, variables = FILTER_CASES[index]
    assert Templates("ansible").render(source, variables).encode() == \
        ansible_output["filters"][index]


@pytest.mark.parametrize("value", ["y", "t", " yes ", "enabled"])
def test_bool_refuses_what_ansible_only_coerces_with_a_deprecation(value: str) -> None:
    """Ansible 2.19 turns these into False with "This feature will be removed from
    ansible-core version 2.23"; drydock already refuses them, in one line."""
    with pytest.raises(TemplateRenderError, match="is not a boolean"):
        Templates("ansible").render("{{ v | bool }}", {"v": value})
