"""Service lifecycle through the carbon provider: real processes on free ports, real HTTP
health checks, health commands, and the idempotent start and stop of the control script."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed
from engine.spec.loader import LoadedSpec
from engine.spec.models import Environment
from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from providers.product.provider import CarbonProvider
from testkit.builder import build_pack
from tests.helpers.servers import free_port, http_get, stop_home

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

START, STOP = "bin/api-manager.sh start", "bin/api-manager.sh stop"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int]]:
    """A home serving on a free port; whatever it started is stopped afterwards."""
    monkeypatch.setenv("DRYDOCK_PYTHON", sys.executable)
    monkeypatch.setenv("DRYDOCK_STOP_TIMEOUT", "20")
    home = tmp_path / "opt" / "gw-1"
    install_pack(T, build_pack(tmp_path / "packs"), home)
    port = free_port()
    (home / "repository/conf/deployment.toml").write_text(f"[server]\nhttp_port = {port}\n")
    try:
        yield home, port
    finally:
        stop_home(home)


def ctx(tmp_path: Path) -> ActionContext:
    spec = LoadedSpec(Environment(environment="t"), tmp_path, (), "sha256:x")
    return ActionContext(spec=spec, now=datetime.now(UTC), run_id="r1",
                         resolve_secret=lambda _ref: "")


def run(tmp_path: Path, type_: str, home: Path, **params: object) -> str:
    action = Action(id=f"server.gw-1/{type_}", address="server.gw-1", type=type_, summary="",
                    params={"server": "gw-1", "home": str(home), **params})
    return CarbonProvider().run(action, ctx(tmp_path)).message


def health(url: str | None = None, command: str | None = None, timeout: float = 5) -> dict:
    return {"http": url, "command": command, "expect_status": 200, "timeout_seconds": timeout}


def test_start_then_health_answers_on_the_chosen_port(home, tmp_path):
    path, port = home
    url = f"http://127.0.0.1:{port}/services/Version"
    assert "server started" in run(tmp_path, "server.start", path, start=START)
    message = run(tmp_path, "server.health", path, health=health(url))
    assert f"{url} answered 200" in message
    assert http_get(url) == (200, "WSO2 API Manager-4.2.0")


def test_start_when_running_is_a_no_op_and_stop_when_stopped_is_fine(home, tmp_path):
    path, port = home
    run(tmp_path, "server.start", path, start=START)
    run(tmp_path, "server.health", path,
        health=health(f"http://127.0.0.1:{port}/services/Version"))
    pid = (path / "wso2carbon.pid").read_text().strip()
    assert f"already running (pid {pid})" in run(tmp_path, "server.start", path, start=START)
    assert "server stopped" in run(tmp_path, "server.stop", path, stop=STOP)
    assert http_get(f"http://127.0.0.1:{port}/services/Version") == (None, "")
    assert "server not running" in run(tmp_path, "server.stop", path, stop=STOP)


def test_an_unhealthy_server_fails_the_check_after_its_timeout(home, tmp_path):
    path, port = home
    (path / "repository/conf/FAIL_HEALTH").write_text("maintenance\n")
    run(tmp_path, "server.start", path, start=START)
    url = f"http://127.0.0.1:{port}/services/Version"
    # First the server is up: a check that expects its 503 passes (a generous limit, since
    # a loaded machine may take seconds to start it). Only then the 1 s check runs, so
    # every answer it sees is the 503, however slowly the server came up.
    assert f"{url} answered 503" in run(tmp_path, "server.health", path,
                                        health={**health(url, timeout=120), "expect_status": 503})
    with pytest.raises(ActionFailed, match=r"not healthy after 1s: .* answered 503"):
        run(tmp_path, "server.health", path, health=health(url, timeout=1))


def test_nothing_listening_fails_the_check(home, tmp_path):
    path, _port = home
    with pytest.raises(ActionFailed, match="did not answer"):
        run(tmp_path, "server.health", path,
            health=health(f"http://127.0.0.1:{free_port()}/services/Version", timeout=0.5))


def test_a_health_command_passes_while_the_server_runs(home, tmp_path):
    path, _port = home
    check = health(command="bin/api-manager.sh status", timeout=0.5)
    with pytest.raises(ActionFailed, match="health command exited 3"):
        run(tmp_path, "server.health", path, health=check)
    run(tmp_path, "server.start", path, start=START)
    assert "health command passed" in run(tmp_path, "server.health", path, health=check)


def test_a_health_url_must_be_http(home, tmp_path):
    path, _port = home
    with pytest.raises(ActionFailed, match="must start with http:// or https://"):
        run(tmp_path, "server.health", path, health=health("file:///etc/passwd"))


def test_stopping_a_removed_servers_home_that_is_gone_is_fine(tmp_path):
    gone = tmp_path / "opt" / "gone"
    assert "home is gone" in run(tmp_path, "server.stop", gone, stop=STOP, if_running=True)


def test_start_health_and_stop_hold_no_local_lane(home, tmp_path, monkeypatch):
    """Waiting for a product's scripts or its health URL holds no lane: with every lane
    taken by other work, the service actions still run (local work would wait)."""
    import threading

    from providers.hosts import lanes

    monkeypatch.setattr(lanes, "_LANES", threading.BoundedSemaphore(1))
    path, port = home
    url = f"http://127.0.0.1:{port}/services/Version"
    messages: list[str] = []

    def lifecycle() -> None:
        messages.append(run(tmp_path, "server.start", path, start=START))
        messages.append(run(tmp_path, "server.health", path, health=health(url)))
        messages.append(run(tmp_path, "server.stop", path, stop=STOP))

    assert lanes._LANES.acquire(blocking=False)  # the only lane is busy elsewhere
    try:
        worker = threading.Thread(target=lifecycle)
        worker.start()
        worker.join(60)  # a lane-holding start would wait here until the lane is back
        assert not worker.is_alive(), "a service action waited for a local lane"
    finally:
        lanes._LANES.release()
        worker.join(60)
    assert "server started" in messages[0]
    assert f"{url} answered 200" in messages[1]
    assert "server stopped" in messages[2]
