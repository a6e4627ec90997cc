"""Secrets in rendered configuration: written for real, never shown, never recorded."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.helpers.world import make_env

TEMPLATE = "[database]\nuser = \"apim\"\npassword = \"{{ db_password }}\"\n"
SERVER = """\
servers:
  gw-1:
    host: node-a
    product: wso2am-4.2.0
    home: opt/gw-1
    config:
      repository/conf/deployment.toml:
        template: templates/secret.toml.j2
        vars: {db_password: {env: APIM_DB_PASSWORD}}
"""


def setup(tmp_path: Path):
    env = make_env(tmp_path, {})
    (env.spec / "servers.yaml").write_text(SERVER)
    (env.spec / "templates" / "secret.toml.j2").write_text(TEMPLATE)
    from testkit.builder import build_world, install_home

    install_home(build_world(env.world).pack, env.home("gw-1"))
    return env


def everything_written(env) -> bytes:
    out = b""
    for path in sorted((env.spec / "state").rglob("*")):
        if path.is_file():
            out += path.read_bytes()
    return out


def test_secret_in_a_template_is_written_but_never_shown(tmp_path: Path) -> None:
    secret = "pw-" + uuid.uuid4().hex
    env = setup(tmp_path)
    vault = {"APIM_DB_PASSWORD": secret}
    plan = env.run("plan", ".", "-o", "p.json", env=vault, check=0)
    assert secret not in plan.stdout + plan.stderr
    assert "((secret:env:APIM_DB_PASSWORD))" in plan.stdout
    applied = env.run("apply", "p.json", "--env", ".", env=vault, check=0)
    assert secret not in applied.stdout + applied.stderr
    conf = env.home("gw-1") / "repository/conf/deployment.toml"
    assert f'password = "{secret}"' in conf.read_text()
    assert secret.encode() not in (env.spec / "p.json").read_bytes()
    assert secret.encode() not in everything_written(env)
    env.run("plan", ".", "--detailed-exitcode", env=vault, check=0)

    conf.write_text(conf.read_text().replace('user = "apim"', 'user = "root"'))
    drift = env.run("drift", ".", "--format", "json", env=vault, check=2)
    assert secret not in drift.stdout
    diff = json.loads(drift.stdout)["resources"][0]["diffs"]["repository/conf/deployment.toml"]
    assert '+user = "root"' in diff and "(secret)" in diff
    env.run("apply", ".", "--auto-approve", env=vault, check=0)
    assert 'user = "apim"' in conf.read_text()

    rotated = env.run("plan", ".", "--detailed-exitcode",
                      env={"APIM_DB_PASSWORD": "rotated-" + uuid.uuid4().hex}, check=2)
    assert secret not in rotated.stdout and "server.config" in rotated.stdout


def test_an_unset_secret_is_one_line_naming_it(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APIM_DB_PASSWORD", raising=False)
    env = setup(tmp_path)
    proc = env.run("plan", ".", check=1)
    assert "APIM_DB_PASSWORD" in proc.stderr and proc.stderr.count("\n") == 1
