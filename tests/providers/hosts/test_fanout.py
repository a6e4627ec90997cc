"""Many hosts in one run: a host that stops answering fails its own resources with one line
naming it, while every other host finishes; refresh names it too.

The silent host is a mock here, because a local transport is this machine and cannot be
made unreachable to itself; the ssh transport's suite times out a real silent sshd. The
other host, the homes, the plan and the apply are all real.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.operations.plan_apply import apply_plan, plan_workspace
from engine.planning import PlanError
from engine.spec.infra import Host
from engine.wiring import default_registry
from engine.workspace import open_workspace
from providers.hosts.base import HostUnreachable, Transport
from providers.hosts.local import LocalTransport
from providers.hosts.pool import HostPool
from providers.product.install import install_pack
from tests.helpers.servers import make_estate

OPERATIONS = {name for name in dir(Transport)
              if not name.startswith("_") and callable(getattr(Transport, name))} - {"close"}


class Silenced(LocalTransport):
    """Mock (see the module docstring): answers until `down`, then every operation times
    out as a host that accepts TCP and never answers does."""

    down = False

    def __getattribute__(self, name: str) -> Any:
        if name in OPERATIONS and type(self).down:
            host = object.__getattribute__(self, "host")

            def silent(*_args: object, **_kwargs: object) -> Any:
                raise HostUnreachable(f"{host}: no answer within 2s (is the host up?)")

            return silent
        return super().__getattribute__(name)


def factory(name: str, host: Host, spec_dir: Path) -> Transport:
    return Silenced(name) if name == "node-b" else LocalTransport(name)


SERVERS = """\
servers:
{servers}
"""
ONE = """\
  {name}:
    host: {host}
    product: wso2am-4.2.0
    home: opt/{name}
    config:
      repository/conf/deployment.toml:
        template: templates/deployment.toml.j2
        vars: {{port: 1, fail: false}}
"""


@pytest.fixture
def estate(tmp_path: Path):  # noqa: ANN201
    Silenced.down = False
    estate = make_estate(tmp_path)
    env = (estate.spec / "env.yaml").read_text()
    env = env.replace("hosts:\n", "hosts:\n  node-b: {site: primary, transport: local, "
                                  "root: \"{{ world }}/secondary\"}\n", 1)
    (estate.spec / "env.yaml").write_text(env)
    servers = [("gw-a1", "node-a"), ("gw-a2", "node-a"), ("gw-b1", "node-b"),
               ("gw-b2", "node-b")]
    for name, host in servers:
        root = estate.world / ("primary" if host == "node-a" else "secondary")
        install_pack(LocalTransport(), estate.world / "packs" / "wso2am-4.2.0.zip",
                     root / "opt" / name)
    (estate.spec / "servers.yaml").write_text(SERVERS.format(
        servers="".join(ONE.format(name=n, host=h) for n, h in servers)))
    yield estate
    Silenced.down = False


def test_a_silent_host_fails_only_its_own_servers(estate) -> None:  # noqa: ANN001
    ws = open_workspace(estate.spec, default_registry(HostPool(factory)))
    now = datetime.now(UTC)
    with ws.state.lock("apply"):
        doc = ws.state.read()
        made = plan_workspace(ws, now, doc=doc)
        assert {a.params.get("host") for a in made.actions if a.address.startswith("server.")} \
            == {"node-a", "node-b"}
        Silenced.down = True
        result, stored = apply_plan(ws, made, now, doc=doc, parallelism=4)
    by_server: dict[str, set[str]] = {}
    for report in result.reports:
        by_server.setdefault(report.address, set()).add(report.status)
    assert by_server["server.gw-a1"] == by_server["server.gw-a2"] == {"ok"}
    assert "ok" not in by_server["server.gw-b1"] | by_server["server.gw-b2"]
    failed = [r for r in result.reports if r.status == "failed"]
    assert {r.address for r in failed} == {"server.gw-b1", "server.gw-b2"}
    for report in failed:
        assert "\n" not in report.message
        assert report.message.endswith("node-b: no answer within 2s (is the host up?)")
    assert not result.ok and result.count("failed") == 2
    home = estate.world / "primary" / "opt" / "gw-a1" / "repository/conf/deployment.toml"
    assert 'hostname = "gw-a1"' in home.read_text()
    assert "config:repository/conf/deployment.toml" in \
        stored.resources["server.gw-a1"].attributes


def test_refresh_observes_every_other_host_and_names_the_silent_one(estate) -> None:  # noqa: ANN001
    Silenced.down = True
    ws = open_workspace(estate.spec, default_registry(HostPool(factory)))
    with pytest.raises(PlanError) as caught:
        plan_workspace(ws, datetime.now(UTC))
    errors = str(caught.value).split("; ")
    assert sorted(e.split(":", 1)[0] for e in errors) == ["server.gw-b1", "server.gw-b2"]
    assert all(e.endswith("node-b: no answer within 2s (is the host up?)") for e in errors)
