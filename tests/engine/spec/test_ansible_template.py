"""A role's deployment.toml.j2 written for Ansible renders to the TOML Ansible produces.

The expected text below was worked out by hand from the template module's documented
rules, not by running a renderer:
- `trim_blocks: true`: the first newline after a block tag (`{% ... %}`) is removed, so
  lines holding only `{% if %}`, `{% endif %}`, `{% for %}`, `{% endfor %}` vanish;
- `lstrip_blocks: false`: nothing before a tag is stripped unless the tag says `{%-`;
- `{%-` / `-%}` strip every whitespace character (newlines too) before / after the tag;
- trailing newlines: jinja drops the source's last newline, and the template module
  adds back as many newlines as the source ends with when the output ends with fewer;
- `|bool` maps "yes"/"false" to True/False; `|lower` of False is "false";
  `default(x, true)` replaces an empty string too; `|int` turns "2" into 2;
- `${carbon.host}`, `$secret{…}` and `$ref{…}` are Carbon's own placeholders, plain
  text to jinja, so they pass through as written.
"""

from __future__ import annotations

from pathlib import Path

from engine.desired import build_desired
from engine.spec.loader import load_spec

TEMPLATE = """\
# {{ banner | default('Managed by drydock', true) }}
[server]
hostname = "{{ hostname }}"
node_ip = "${carbon.host}"
offset = {{ offset | int }}
{% if enable_mtls | bool %}
mtls = true
{% endif %}

[super_admin]
password = "$secret{admin_password}"
create_admin_account = {{ create_admin | bool | lower }}

[database.apim_db]
url = "$ref{database.shared_db.url}"

{% for gw in gateways %}
[[apim.gateway.environment]]
name = "{{ gw.name }}"
endpoint = "https://{{ gw.host }}:{{ 8243 + (offset | int) }}"
{% if not loop.last %}

{% endif %}
{% endfor %}

[transport.https]
ciphers = [{% for c in ciphers %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}]
{% if proxy_port is defined -%}
proxy_port = {{ proxy_port }}
{%- endif %}
"""

# Line by line: the `if`/`endif`/`for`/`endfor` lines leave nothing (trim_blocks); the
# `{% if not loop.last %}` body is the one empty line between the two gateway tables;
# the ciphers line is one `for` with `loop.last` deciding the separators; `-%}` eats the
# newline after the last `if`, `{%-` the one after "proxy_port = 443", so the output
# ends without a newline and the template module adds the one the source ends with.
EXPECTED = """\
# Managed by drydock
[server]
hostname = "gw-1.example.com"
node_ip = "${carbon.host}"
offset = 2
mtls = true

[super_admin]
password = "$secret{admin_password}"
create_admin_account = false

[database.apim_db]
url = "$ref{database.shared_db.url}"

[[apim.gateway.environment]]
name = "us"
endpoint = "https://gw-us:8245"

[[apim.gateway.environment]]
name = "eu"
endpoint = "https://gw-eu:8245"

[transport.https]
ciphers = ["TLS_A", "TLS_B"]
proxy_port = 443
"""

SPEC = """\
environment: t
sites: {primary: {}}
hosts: {node-a: {site: primary, root: /srv}}
products: {wso2am-4.2.0: {pack: /p.zip}}
servers:
  gw-1:
    host: node-a
    product: wso2am-4.2.0
    home: opt/gw-1
    config:
      repository/conf/deployment.toml:
        template: templates/deployment.toml.j2
        whitespace: %s
        mode: "0640"
        vars:
          banner: ""
          hostname: gw-1.example.com
          offset: "2"
          enable_mtls: "yes"
          create_admin: "false"
          gateways: [{name: us, host: gw-us}, {name: eu, host: gw-eu}]
          ciphers: [TLS_A, TLS_B]
          proxy_port: 443
"""


def render(tmp_path: Path, whitespace: str) -> str:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "deployment.toml.j2").write_text(TEMPLATE)
    (tmp_path / "env.yaml").write_text(SPEC % whitespace)
    desired = build_desired(load_spec(tmp_path))
    return desired["server.gw-1"].files["repository/conf/deployment.toml"]


def test_renders_as_under_ansible(tmp_path: Path) -> None:
    assert render(tmp_path, "ansible") == EXPECTED


def test_jinja_whitespace_keeps_the_block_lines(tmp_path: Path) -> None:
    """Without Ansible's rules every block line leaves its newline behind."""
    out = render(tmp_path, "jinja")
    assert out != EXPECTED
    assert "offset = 2\n\nmtls = true\n\n" in out
