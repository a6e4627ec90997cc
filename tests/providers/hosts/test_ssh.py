"""What only the ssh transport has: host keys, timeouts, the pooled connection, reconnects.

Every test talks to a real sshd (tests/helpers/sshd.py) or to a real TCP listener that
never speaks; nothing is mocked.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from providers.hosts.base import HostError, HostKeyError, HostUnreachable
from providers.hosts.ssh import SshTransport
from tests.helpers.sshd import SshServer, known_hosts_line, silent_host
from tests.providers.hosts.conftest import ssh_transport


def test_the_host_root_is_empty_outside_the_servers_namespace(sshd: SshServer,
                                                              tmp_path: Path) -> None:
    (sshd.backing / "only-via-ssh").mkdir(exist_ok=True)
    assert list(Path(sshd.root).iterdir()) == []
    transport = ssh_transport(sshd, tmp_path)
    try:
        assert any(e.name == "only-via-ssh" for e in transport.list_dir(sshd.root))
    finally:
        transport.close()


def _other_key(tmp_path: Path) -> Path:
    import subprocess

    key = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key.with_suffix(".pub")


def _nothing_written(sshd: SshServer, transport: SshTransport, name: str) -> None:
    with pytest.raises(HostKeyError):
        transport.write_atomic(sshd.root / name, b"must not arrive")
    with pytest.raises(HostKeyError):
        transport.run(["touch", str(sshd.root / name)])
    assert not (sshd.backing / name).exists()


def test_an_unknown_host_key_is_refused_and_nothing_is_written(
        sshd: SshServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(1, _other_key(tmp_path)))  # a key for another port
    transport = ssh_transport(sshd, tmp_path, known_hosts={"file": str(known)})
    with pytest.raises(HostKeyError) as info:
        transport.stat(sshd.root)
    message = str(info.value)
    assert message.startswith("node-ssh: ") and "unknown" in message and "\n" not in message
    assert str(known) in message
    _nothing_written(sshd, transport, "unknown-key-marker")


def test_a_changed_host_key_is_refused_and_nothing_is_written(
        sshd: SshServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(sshd.port, _other_key(tmp_path)))
    transport = ssh_transport(sshd, tmp_path, known_hosts={"file": str(known)})
    with pytest.raises(HostKeyError) as info:
        transport.stat(sshd.root)
    message = str(info.value)
    assert message.startswith("node-ssh: ") and "CHANGED" in message and "\n" not in message
    _nothing_written(sshd, transport, "changed-key-marker")


def test_a_missing_known_hosts_file_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    transport = ssh_transport(sshd, tmp_path, known_hosts={"file": "nowhere/known_hosts"})
    with pytest.raises(HostKeyError, match="node-ssh: cannot read known_hosts .*nowhere"):
        transport.stat(sshd.root)


def test_relative_key_files_are_relative_to_the_spec_folder(
        sshd: SshServer, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "id").write_bytes(sshd.identity.read_bytes())
    (tmp_path / "keys" / "id").chmod(0o600)
    (tmp_path / "keys" / "known").write_text(sshd.known_hosts.read_text())
    transport = ssh_transport(sshd, tmp_path, identity={"file": "keys/id"},
                              known_hosts={"file": "keys/known"})
    try:
        assert transport.stat(sshd.root) is not None
    finally:
        transport.close()


def test_an_identity_from_the_environment_logs_in(sshd: SshServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRYDOCK_TEST_SSH_KEY", sshd.identity.read_text())
    transport = ssh_transport(sshd, tmp_path, identity={"env": "DRYDOCK_TEST_SSH_KEY"})
    try:
        assert transport.run(["true"]).ok
    finally:
        transport.close()


def test_a_key_the_server_does_not_accept_is_refused(sshd: SshServer, tmp_path: Path) -> None:
    import subprocess

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    transport = ssh_transport(sshd, tmp_path, identity={"file": str(stranger)})
    with pytest.raises(HostUnreachable, match="node-ssh: .* refused our key"):
        transport.stat(sshd.root)


def test_a_silent_host_fails_within_connect_timeout_naming_the_host(tmp_path: Path) -> None:
    with silent_host() as silent:
        transport = SshTransport.from_spec("gw-silent", _silent_spec(silent.port, "1s"),
                                           tmp_path)
        with pytest.raises(HostUnreachable) as info:
            transport.stat(_root())
        assert silent.accepted.is_set()
        assert silent.hung_up.wait(30), "the client must close the connection it gave up on"
    message = str(info.value)
    assert message == ("gw-silent: no SSH answer from 127.0.0.1:"
                       f"{silent.port} within 1s (connect_timeout)")
    assert isinstance(info.value.__cause__, TimeoutError)  # our bound fired, not the OS's


def test_a_silent_host_fails_alone_while_another_host_answers(
        sshd: SshServer, tmp_path: Path) -> None:
    with silent_host() as silent:
        stuck = SshTransport.from_spec("gw-silent", _silent_spec(silent.port, "60s"), tmp_path)
        outcome: list[BaseException] = []
        thread = threading.Thread(target=lambda: _capture(lambda: stuck.stat(_root()),
                                                          outcome))
        thread.start()
        assert silent.accepted.wait(30)
        healthy = ssh_transport(sshd, tmp_path)
        try:
            assert healthy.run(["echo", "fine"]).stdout == "fine\n"
            assert healthy.stat(sshd.root) is not None
        finally:
            healthy.close()
        assert thread.is_alive(), "the silent host is still waiting while the other answered"
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], HostUnreachable)
    assert str(outcome[0]).startswith("gw-silent: ")


def test_one_pooled_connection_serves_many_calls_and_threads(
        sshd: SshServer, tmp_path: Path) -> None:
    transport = ssh_transport(sshd, tmp_path)
    try:
        for _ in range(10):
            transport.stat(sshd.root)
            transport.run(["true"])
        errors: list[BaseException] = []
        threads = [threading.Thread(target=lambda: _capture(
            lambda: [transport.run(["sleep", "0.2"]) for _ in range(2)], errors))
            for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert transport.connections_made == 1
    finally:
        transport.close()


def test_a_dropped_connection_is_reopened_on_the_next_call(
        sshd: SshServer, tmp_path: Path) -> None:
    transport = ssh_transport(sshd, tmp_path)
    try:
        assert transport.run(["true"]).ok
        # Kill, from the host side, the sshd process serving this connection.
        find_sshd = ('p=$$; while [ "$(cat /proc/$p/comm)" != sshd ]; do '
                     'p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 "$p"')
        try:
            transport.run(["sh", "-c", find_sshd])
        except HostError:
            pass
        assert transport.stat(sshd.root) is not None
        assert transport.connections_made == 2
        transport.close()
        assert transport.run(["true"]).ok and transport.connections_made == 3
    finally:
        transport.close()


def test_drydock_version_does_not_import_asyncssh() -> None:
    import subprocess
    import sys

    code = ("import sys; from engine.cli import main; "
            "sys.argv = ['drydock', '--version']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'asyncssh' not in sys.modules, 'asyncssh imported eagerly'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3], env={**os.environ})
    assert done.returncode == 0, done.stderr


def _capture(fn, errors: list[BaseException]) -> None:  # noqa: ANN001
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - handed to the test thread
        errors.append(exc)


def _silent_spec(port: int, timeout: str):  # noqa: ANN202
    from engine.spec.infra import Host

    return Host(site="s", transport="ssh", address="127.0.0.1", port=port, root="/opt",
                connect_timeout=timeout, known_hosts={"file": os.devnull})


def _root():  # noqa: ANN202
    from pathlib import PurePosixPath

    return PurePosixPath("/opt")


def test_sha256_many_hashes_a_batch_in_one_command(sshd: SshServer, tmp_path: Path) -> None:
    import hashlib

    area = sshd.backing / tmp_path.name
    area.mkdir()
    names = ["a", "with space", "new\nline"]
    for name in names:
        (area / name).write_text(name)
    transport = ssh_transport(sshd, tmp_path)
    try:
        root = sshd.root / tmp_path.name
        got = transport.sha256_many([root / n for n in [*names, "absent"]])
    finally:
        transport.close()
    for name in names:
        assert got[root / name] == "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    assert got[root / "absent"] is None
