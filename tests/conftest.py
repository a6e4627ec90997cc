"""Fixtures shared by every test folder: AWS through a real moto server over HTTP; the
order tests are handed to the xdist workers in (the longest first); and a cache folder of
drydock's own per test process (no-op plan memos never land in the user's home)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers.sshd import SshServer


def pytest_configure(config: pytest.Config) -> None:
    cache = tempfile.mkdtemp(prefix="drydock-cache-")
    os.environ["DRYDOCK_CACHE_DIR"] = cache
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    config.addinivalue_line(
        "markers", "slow(seconds): the test runs for about that long on an idle machine; the "
                   "slow ones are handed out first, longest first, so both workers end together")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (xdist hands tests out in this order as workers free up),
    and the `xdist_group` names pytest-xdist put on the ids made visible to pytest 9."""
    _keep_xdist_groups(items)

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("slow")
        return float(mark.args[0]) if mark is not None and mark.args else 0.0

    items.sort(key=seconds, reverse=True)  # stable: the rest keep their order


def _keep_xdist_groups(items: list[pytest.Item]) -> None:
    """pytest-xdist 3.8 groups `--dist loadgroup` tests by setting `item._nodeid` to
    `<id>@<group>`; pytest 9 reads an item's id from `item._id`, so without this the
    groups are silently ignored (a group's module fixture then runs on every worker)."""
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest 8 reads `_nodeid` itself
        return
    for item in items:
        grouped = item.__dict__.get("_nodeid")
        if isinstance(grouped, str) and grouped != item.nodeid:
            item._id = NodeId.parse(grouped)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server per test process, on a free port of 127.0.0.1 (safe under xdist)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Dummy credentials for moto, set here and returned for CLI child processes; the
    machine's own AWS configuration is never read."""
    values = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
              "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
              "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return values


@pytest.fixture
def aws_env(aws: dict[str, str]) -> None:
    """The same dummy credentials, for tests that only need them set."""


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """One real OpenSSH server per test process, in its own mount namespace: the files of
    its host root are reachable only through ssh (tests/helpers/sshd.py)."""
    from tests.helpers.sshd import running_sshd

    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server
