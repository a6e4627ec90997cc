"""Health URLs are probed from the server's host, through its transport, as argument lists:
with curl where the host has it, else a small Python probe; `from: controller` fetches
the URL where drydock runs. A real HTTP server answers on 127.0.0.1 in each test."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

import pytest
from pydantic import ValidationError

from engine.contracts.provider import ActionFailed
from engine.spec.infra import HealthCheck
from providers.hosts.base import CommandResult
from providers.hosts.local import LocalTransport
from providers.product.service import host_http_status, wait_healthy


class Answering(BaseHTTPRequestHandler):
    """200 on /ok, 503 anywhere else."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class Recording(LocalTransport):
    """The local transport, keeping the argument lists it ran (a spy: everything runs)."""

    def __init__(self, path: str | None = None) -> None:
        super().__init__("node-a")
        self.argvs: list[tuple[str, ...]] = []
        self.path = path

    def run(self, argv: Sequence[str], *, cwd: PurePosixPath | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600,
            stdin: bytes | None = None) -> CommandResult:
        self.argvs.append(tuple(argv))
        extra = {"PATH": self.path} if self.path is not None else {}
        return super().run(argv, cwd=cwd, env={**(env or {}), **extra}, timeout=timeout,
                           stdin=stdin)


def health(url: str, **more: object) -> dict[str, object]:
    return {"http": url, "command": None, "expect_status": 200, "timeout_seconds": 3, **more}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed here")
def test_the_url_is_fetched_on_the_host_with_curl(server: str, tmp_path: Path) -> None:
    t = Recording()
    message = wait_healthy(t, PurePosixPath(tmp_path), health(f"{server}/ok"), "gw-1")
    assert message == f"gw-1: {server}/ok answered 200"
    assert t.argvs[0][0] == "curl" and t.argvs[0][-1] == f"{server}/ok"
    assert host_http_status(t, f"{server}/down") == 503


def test_a_host_without_curl_is_probed_with_python(server: str, tmp_path: Path) -> None:
    only_python = tmp_path / "bin"
    only_python.mkdir()
    (only_python / "python3").symlink_to(sys.executable)
    t = Recording(path=str(only_python))
    assert host_http_status(t, f"{server}/ok") == 200
    assert host_http_status(t, f"{server}/down") == 503
    assert [a[0] for a in t.argvs] == ["curl", "python3", "curl", "python3"]
    probe = t.argvs[1]
    assert probe[1] == "-c" and probe[3] == f"{server}/ok"  # the URL is an argument
    closed = f"http://127.0.0.1:{free_closed_port()}/ok"
    assert host_http_status(t, closed, timeout=1) is None


def test_a_host_with_neither_says_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ActionFailed, match="node-a has neither curl nor python3.*from: "
                                           "controller"):
        host_http_status(Recording(path=str(empty)), "http://127.0.0.1:9/ok")


def test_from_controller_fetches_here_and_runs_nothing_on_the_host(server: str,
                                                                   tmp_path: Path) -> None:
    t = Recording()
    message = wait_healthy(t, PurePosixPath(tmp_path),
                           health(f"{server}/ok", **{"from": "controller"}), "gw-1")
    assert message.endswith("answered 200") and t.argvs == []


def test_an_unhealthy_answer_fails_after_the_timeout_naming_the_status(server: str,
                                                                       tmp_path: Path) -> None:
    with pytest.raises(ActionFailed, match=r"gw-1 is not healthy after 1s: .*/down answered 503"):
        wait_healthy(Recording(), PurePosixPath(tmp_path),
                     health(f"{server}/down", timeout_seconds=1), "gw-1")


def test_the_spec_takes_from_host_or_controller_only() -> None:
    assert HealthCheck(http="http://x/").from_ == "host"
    assert HealthCheck.model_validate({"http": "http://x/", "from": "controller"}).from_ == \
        "controller"
    with pytest.raises(ValidationError):
        HealthCheck.model_validate({"http": "http://x/", "from": "elsewhere"})


def free_closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
