"""Tests for the fake product runtime: the real bash script, a real process, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess  # noqa: TID251 - the test runs the real control script
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.product.archive import extract_zip
from testkit import fake_server
from testkit.builder import build_pack, build_patch, install_home

WAIT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _script(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRYDOCK_PYTHON": sys.executable, "DRYDOCK_STOP_TIMEOUT": "20"}
    return subprocess.run([str(home / "bin" / "api-manager.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _wait_answering(url: str) -> tuple[int, str]:
    """Poll `url` until the server answers at all (any HTTP status), bounded."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {WAIT_SECONDS}s") from exc
        time.sleep(0.05)


def _wait_stopped(home: Path) -> subprocess.CompletedProcess[str]:
    """Poll `status` until it reports not running, bounded."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (result := _script(home, "status")).returncode == 0:
        assert time.monotonic() < deadline, "server did not exit"
        time.sleep(0.05)
    return result


def _set_server(home: Path, extra: str) -> None:
    conf = home / "repository/conf/deployment.toml"
    conf.write_text(conf.read_text().replace("offset = 0\n", f"offset = 0\n{extra}\n", 1))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A product home on a free port; any server it started is stopped afterwards."""
    home = install_home(build_pack(tmp_path / "packs"), tmp_path / "opt" / "wso2am-4.2.0")
    _set_server(home, f"http_port = {_free_port()}")
    yield home
    if _script(home, "stop").returncode != 0:
        pid = int((home / "wso2carbon.pid").read_text())
        os.kill(pid, signal.SIGKILL)


def _url(home: Path, path: str = "/services/Version") -> str:
    return f"http://127.0.0.1:{fake_server.read_config(home).port}{path}"


def _install_patch(home: Path, tmp_path: Path, number: int) -> Path:
    archive = build_patch(tmp_path / "patches", "4.9.0", number)
    inner = f"WSO2-CARBON-PATCH-4.9.0-{number:04d}/patch{number:04d}"
    extract_zip(archive, home / f"repository/components/patches/patch{number:04d}",
                only=inner, strip=inner)
    return archive


def test_start_serve_status_and_stop(home: Path) -> None:
    started = _script(home, "start")
    assert started.returncode == 0, started.stderr
    assert _wait_answering(_url(home)) == (200, "WSO2 API Manager-4.2.0")
    status = _script(home, "status")
    assert status.returncode == 0 and "running" in status.stdout
    pid = int((home / "wso2carbon.pid").read_text())
    code, body = _get(_url(home, "/services/Status"))
    assert code == 200
    assert json.loads(body) == {"product": "wso2am", "version": "4.2.0",
                                "name": "WSO2 API Manager", "update_level": -1,
                                "patches": [], "pid": pid, "healthy": True}
    assert json.loads(_get(_url(home) + "?format=json")[1])["pid"] == pid
    assert _get(_url(home, "/nope"))[0] == 404
    again = _script(home, "start")
    assert again.returncode == 0 and "already running" in again.stdout
    assert int((home / "wso2carbon.pid").read_text()) == pid
    stopped = _script(home, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not (home / "wso2carbon.pid").exists()
    assert _script(home, "status").returncode == 3
    with pytest.raises(urllib.error.URLError):
        _get(_url(home))
    log = (home / "repository/logs/wso2carbon.log").read_text()
    assert "started on 127.0.0.1" in log and "shutting down" in log and "stopped" in log


def test_stop_when_not_running_is_a_no_op(home: Path) -> None:
    result = _script(home, "stop")
    assert result.returncode == 0 and "not running" in result.stdout


def test_unknown_command_is_a_usage_error(home: Path) -> None:
    result = _script(home, "explode")
    assert result.returncode == 2 and "usage" in result.stderr


def test_port_follows_the_offset(home: Path) -> None:
    conf = home / "repository/conf/deployment.toml"
    port = _free_port()
    conf.write_text(conf.read_text().replace("offset = 0\n", f"offset = {port - 9763}\n")
                    .replace("http_port", "# http_port"))
    assert fake_server.read_config(home).port == port
    _script(home, "start")
    assert _wait_answering(f"http://127.0.0.1:{port}/services/Version")[0] == 200


def test_health_fails_for_real_with_fail_health_file(home: Path) -> None:
    _script(home, "start")
    assert _wait_answering(_url(home))[0] == 200
    flag = home / "repository/conf/FAIL_HEALTH"
    flag.touch()
    assert _get(_url(home))[0] == 503
    assert json.loads(_get(_url(home, "/services/Status"))[1])["healthy"] is False
    flag.unlink()
    assert _get(_url(home))[0] == 200


def test_fail_start_setting_makes_health_fail(home: Path) -> None:
    _set_server(home, "fail_start = true")
    _script(home, "start")
    assert _wait_answering(_url(home))[0] == 503


def test_bad_config_makes_the_server_exit(home: Path) -> None:
    conf = home / "repository/conf/deployment.toml"
    conf.write_text(conf.read_text() + "\n[server\n")
    with pytest.raises(ValueError, match="deployment.toml"):
        fake_server.read_config(home)
    assert _script(home, "start").returncode == 0
    assert "not running" in _wait_stopped(home).stdout
    assert "startup failed" in (home / "repository/logs/wso2carbon.log").read_text()


def test_status_reports_update_level_and_applied_patches(home: Path, tmp_path: Path) -> None:
    (home / "updates/config.json").write_text('{"update-level": 14}\n')
    _install_patch(home, tmp_path, 5)
    _install_patch(home, tmp_path, 2)
    _script(home, "start")
    _wait_answering(_url(home))
    status = json.loads(_get(_url(home, "/services/Status"))[1])
    assert status["update_level"] == 14
    assert status["patches"] == ["patch0002", "patch0005"]
    metadata = home / "repository/components/patches/.metadata/prePatchedDir.txt"
    assert metadata.read_text() == "patch0002\npatch0005\n"


def test_run_keeps_the_server_in_the_foreground(home: Path) -> None:
    env = {**os.environ, "DRYDOCK_PYTHON": sys.executable}
    proc = subprocess.Popen([str(home / "bin/api-manager.sh"), "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_answering(_url(home))[0] == 200
        assert int((home / "wso2carbon.pid").read_text()) == proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT_SECONDS) == 0
    assert not (home / "wso2carbon.pid").exists()


def _plugins(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes()
            for p in sorted((home / "repository/components/plugins").glob("*.jar"))}


def test_patches_are_laid_over_plugins_and_removed_again(home: Path, tmp_path: Path) -> None:
    original = _plugins(home)
    _install_patch(home, tmp_path, 5)
    patch_dir = home / "repository/components/patches/patch0005"
    patched = {p.name: p.read_bytes() for p in patch_dir.glob("*.jar")}
    assert fake_server.apply_patches(home) == ["patch0005"]
    base = home / "repository/components/patches/patch0000"
    assert {p.name: p.read_bytes() for p in base.glob("*.jar")} == original
    assert _plugins(home) == {**original, **patched}
    for path in patch_dir.iterdir():
        path.unlink()
    patch_dir.rmdir()
    assert fake_server.apply_patches(home) == []
    assert _plugins(home) == original


def test_a_plugin_changed_by_an_update_becomes_the_new_original(home: Path,
                                                                 tmp_path: Path) -> None:
    _install_patch(home, tmp_path, 5)
    fake_server.apply_patches(home)
    plugins = home / "repository/components/plugins"
    patched_names = {p.name for p in
                     (home / "repository/components/patches/patch0005").glob("*.jar")}
    updated = next(p for p in sorted(plugins.glob("*.jar")) if p.name not in patched_names)
    updated.write_bytes(b"updated jar")
    (plugins / "org.wso2.carbon.new_1.0.0.jar").write_bytes(b"new jar")
    fake_server.apply_patches(home)
    base = home / "repository/components/patches/patch0000"
    assert (base / updated.name).read_bytes() == b"updated jar"
    assert (base / "org.wso2.carbon.new_1.0.0.jar").read_bytes() == b"new jar"
    assert updated.read_bytes() == b"updated jar"
