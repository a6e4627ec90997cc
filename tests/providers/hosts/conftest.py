"""Fixtures for the transport tests: a fresh folder on each kind of host (`local`, and
`ssh` through the real sshd that tests/conftest.py starts once per test process), with the
same files as the test process sees them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from engine.spec.infra import Host as HostSpec
from providers.hosts.base import Transport
from providers.hosts.factory import transport_for_host
from tests.helpers.sshd import SshServer


@dataclass
class HostArea:
    """A transport, a fresh folder on its host (as the host names it), and the same folder
    as this test process sees it (for assertions that do not go through the transport)."""

    transport: Transport
    root: PurePosixPath
    backing: Path


def ssh_transport(server: SshServer, spec_dir: Path, **extra: object) -> Transport:
    """A transport built from a spec entry, the way drydock builds one."""
    return transport_for_host("node-ssh", HostSpec(**server.host_spec(**extra)), spec_dir)


@pytest.fixture(params=["local", "ssh"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HostArea]:
    """The same contract, run once per transport."""
    if request.param == "local":
        backing = tmp_path / "root"
        backing.mkdir()
        yield HostArea(transport_for_host("node-local", HostSpec(site="s", root="/"),
                                          tmp_path), PurePosixPath(backing), backing)
        return
    server: SshServer = request.getfixturevalue("sshd")
    backing = server.backing / tmp_path.name
    backing.mkdir()
    transport = ssh_transport(server, tmp_path)
    yield HostArea(transport, server.root / tmp_path.name, backing)
    transport.close()
