"""Config keys and homes are re-checked on the host when they are used: a link inside a
home that leads out of it (to an /etc of its own here) is refused in one line naming the
server and the path, and nothing outside the home is read into a plan or written."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed
from engine.operations.plan_apply import apply_plan, plan_workspace
from engine.planning import PlanError
from engine.spec.loader import load_spec
from providers.hosts.local import LocalTransport
from providers.hosts.paths import inside
from providers.product.provider import CarbonProvider
from safefs.pathsafety import UnsafePathError
from tests.helpers.servers import Gateway, home_at_level, make_estate

CONF = "repository/conf/deployment.toml"


def planted_etc(tmp_path: Path) -> Path:
    """A folder outside every home standing in for /etc, with a file worth protecting."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "deployment.toml").write_text("root-owned = true\n")
    return etc


def test_inside_resolves_links_on_the_host_and_refuses_those_that_leave(tmp_path: Path) -> None:
    t = LocalTransport("node-a")
    home = tmp_path / "home"
    (home / "repository").mkdir(parents=True)
    (home / "repository" / "conf").symlink_to(planted_etc(tmp_path))
    (home / "ok").symlink_to(home / "repository")
    root = PurePosixPath(home)
    assert inside(t, root, "ok/x", what="k") == root / "repository" / "x"
    with pytest.raises(UnsafePathError) as caught:
        inside(t, root, CONF, what="server gw-1: config file")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"server gw-1: config file: {CONF} resolves outside")
    assert "node-a" in message


def test_a_config_write_through_a_link_out_of_the_home_is_refused(tmp_path: Path) -> None:
    etc = planted_etc(tmp_path)
    home = tmp_path / "opt" / "gw-1"
    (home / "repository").mkdir(parents=True)
    (home / "repository" / "conf").symlink_to(etc)
    content = "[server]\nhostname = 'gw-1'\n"
    action = Action(id="server.gw-1/config", address="server.gw-1", type="server.config",
                    summary="", params={
                        "server": "gw-1", "home": str(home), "path": CONF,
                        "content": content,
                        "sha256": "sha256:" + hashlib.sha256(content.encode()).hexdigest()})
    spec = load_spec_dir(tmp_path)
    ctx = ActionContext(spec=spec, now=datetime.now(UTC), run_id="r",
                        resolve_secret=lambda _r: "")
    with pytest.raises(ActionFailed) as caught:
        CarbonProvider().run(action, ctx)
    assert "server gw-1" in str(caught.value) and CONF in str(caught.value)
    assert "\n" not in str(caught.value)
    assert (etc / "deployment.toml").read_text() == "root-owned = true\n"


def load_spec_dir(tmp_path: Path):  # noqa: ANN201
    spec_dir = tmp_path / "spec-min"
    spec_dir.mkdir()
    (spec_dir / "env.yaml").write_text("environment: t\n")
    return load_spec(spec_dir)


def test_plan_and_apply_refuse_a_managed_file_that_leads_out_of_the_home(
        tmp_path: Path) -> None:
    estate = make_estate(tmp_path)
    home = home_at_level(estate, "gw-1", 0)
    estate.declare(Gateway("gw-1", service=False))
    ws = estate.workspace()
    now = datetime.now(UTC)
    with ws.state.lock("apply"):
        doc = ws.state.read()
        made = plan_workspace(ws, now, doc=doc)
        assert any(a.type == "server.config" for a in made.actions)
        etc = planted_etc(tmp_path)
        conf_dir = home / "repository" / "conf"
        conf_dir.rename(home / "repository" / "conf.moved")
        conf_dir.symlink_to(etc)
        result, _stored = apply_plan(ws, made, now, doc=doc)
    failed = [r for r in result.reports if r.status == "failed"]
    assert failed and all("\n" not in (r.message or "") for r in failed)
    # the pre-change backup is the first step to meet the link, and refuses it
    assert any(r.message.startswith("server.gw-1/") and "repository/conf resolves outside"
               in r.message and "on node-a" in r.message for r in failed)
    assert (etc / "deployment.toml").read_text() == "root-owned = true\n"
    with pytest.raises(PlanError) as caught:
        estate.plan()
    assert "server.gw-1" in str(caught.value) and CONF in str(caught.value)
    assert "root-owned" not in str(caught.value)
