"""Host specs: ssh fields, their defaults, and the mistakes reported with positions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.spec.errors import SpecError
from engine.spec.parse import SourceFile, parse_environment

BASE = "environment: x\nsites: {a: {}}\nhosts:\n"


def _issues(hosts: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_environment([SourceFile("s.yaml", BASE + hosts)])
    return [str(i) for i in info.value.issues]


def test_an_ssh_host_takes_every_field_and_keeps_paths_as_written() -> None:
    env = parse_environment([SourceFile("s.yaml", BASE + (
        "  gw:\n    site: a\n    transport: ssh\n    address: 10.1.2.3\n    port: 2222\n"
        "    user: wso2\n    identity: {file: keys/id_ed25519}\n"
        "    known_hosts: {file: ~/.ssh/known_hosts}\n    root: /opt\n"
        "    connect_timeout: 3s\n    command_timeout: 5m\n"))])
    host = env.hosts["gw"]
    assert (host.transport, host.address, host.port, host.user) == ("ssh", "10.1.2.3", 2222, "wso2")
    assert host.identity is not None and host.identity.file == "keys/id_ed25519"
    assert host.known_hosts is not None and host.known_hosts.file == "~/.ssh/known_hosts"
    assert host.connect_timeout == timedelta(seconds=3)
    assert host.command_timeout == timedelta(minutes=5)


def test_ssh_defaults() -> None:
    env = parse_environment([SourceFile("s.yaml", BASE + (
        "  gw: {site: a, transport: ssh, address: gw.example, root: /opt}\n"))])
    host = env.hosts["gw"]
    assert host.port == 22 and host.user is None and host.known_hosts is None
    assert host.connect_timeout == timedelta(seconds=10)
    assert host.command_timeout == timedelta(seconds=300)


def test_an_ssh_host_without_address_is_reported_at_the_host() -> None:
    assert _issues("  gw: {site: a, transport: ssh, root: /opt}\n") == [
        "s.yaml:4:7: hosts.gw: a host with transport: ssh needs an 'address'"]


def test_a_local_host_refuses_ssh_fields_at_the_field() -> None:
    found = _issues("  n:\n    site: a\n    root: /r\n    user: wso2\n"
                    "    identity: {file: k}\n")
    assert found == [
        "s.yaml:7:11: hosts.n.user: 'user' is only for hosts with transport: ssh",
        "s.yaml:8:15: hosts.n.identity: 'identity' is only for hosts with transport: ssh"]


def test_relative_root_and_zero_timeout_are_refused_for_ssh() -> None:
    found = _issues("  gw: {site: a, transport: ssh, address: h, root: opt}\n"
                    "  gx: {site: a, transport: ssh, address: h, root: /o, connect_timeout: 0s}\n")
    assert any("s.yaml:4:" in f and "absolute path" in f for f in found), found
    assert any("s.yaml:5:" in f and "longer than 0s" in f for f in found), found


def test_an_unknown_transport_is_reported() -> None:
    found = _issues("  gw: {site: a, transport: telnet, root: /o}\n")
    assert len(found) == 1 and "s.yaml:4:" in found[0] and "transport" in found[0]
