"""A real OpenSSH server for tests, in its own mount namespace, and a host that never speaks.

`running_sshd(base)` starts Debian's `/usr/sbin/sshd` on 127.0.0.1 at a free port with
generated host and user keys and its own config file (root may log in by key only;
nothing system-wide is read or changed). It runs under `unshare --mount`: inside, the
test's backing folder is bind-mounted at `hostroot`, a folder that stays empty outside,
and a private tmpfs on /run holds sshd's privilege-separation folder. So a file reaches
the "host" only through ssh; tests assert on `backing`, the same files seen from outside.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SSHD = Path("/usr/sbin/sshd")
READY = "Server listening on 127.0.0.1 port"
START_LIMIT = 30.0

# Positional parameters only: $1 backing folder, $2 mount point, $3 sshd, $4 its config.
NAMESPACE_SCRIPT = (
    'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd '
    '&& mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"'
)

CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
LogLevel INFO
# bash sources ~/.bashrc for commands run by sshd unless it is a nested shell; this
# machine's own root shell set-up has nothing to do with the host under test.
SetEnv SHLVL=1
"""


@dataclass
class SshServer:
    """What a spec needs to reach the test server, and where its files really are."""

    address: str
    port: int
    user: str
    identity: Path
    known_hosts: Path
    host_key: Path
    root: PurePosixPath
    """The host's root as the host sees it (empty outside the namespace)."""
    backing: Path
    """The same folder as the test process sees it, for the test's own assertions."""
    log: list[str] = field(default_factory=list)

    def host_spec(self, **extra: object) -> dict[str, object]:
        """A `hosts:` entry for this server."""
        spec: dict[str, object] = {
            "site": "primary", "transport": "ssh", "address": self.address, "port": self.port,
            "user": self.user, "identity": {"file": str(self.identity)},
            "known_hosts": {"file": str(self.known_hosts)}, "root": str(self.root)}
        spec.update(extra)
        return spec


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drydock-test",
                    "-f", str(path)], check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def known_hosts_line(port: int, public_key: Path) -> str:
    """The known_hosts entry `ssh-keyscan -p PORT 127.0.0.1` would print for this key."""
    kind, key = public_key.read_text().split()[:2]
    return f"[127.0.0.1]:{port} {kind} {key}\n"


def _wait_ready(proc: subprocess.Popen[bytes], log: list[str]) -> bool:
    """Read sshd's stderr until it says it listens (True) or it exits (False)."""
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + START_LIMIT
    pending = b""
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            return False
        pending += chunk
        *lines, pending = pending.split(b"\n")
        log.extend(line.decode("utf-8", "replace") for line in lines)
        if any(READY in line for line in log):
            return True
    return False


def _drain(proc: subprocess.Popen[bytes], log: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        log.append(line.decode("utf-8", "replace").rstrip())


def _namespace_pids(pid: int) -> list[int]:
    """Processes sharing the mount namespace of `pid` (the server's session children)."""
    try:
        ns = os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != pid:
            try:
                if os.readlink(entry / "ns" / "mnt") == ns:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _start(base: Path, server: SshServer, config: Path
           ) -> subprocess.Popen[bytes] | None:
    config.write_text(CONFIG.format(port=server.port, host_key=server.host_key,
                                    authorized_keys=base / "authorized_keys"))
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", NAMESPACE_SCRIPT,
         "sh", str(server.backing), str(server.root), str(SSHD), str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if _wait_ready(proc, server.log):
        return proc
    proc.kill()
    proc.wait()
    return None


@contextmanager
def running_sshd(base: Path) -> Iterator[SshServer]:
    """Start sshd for the duration of the block; every process it started is ended after.

    Raises RuntimeError with sshd's own messages when it cannot start.
    """
    if not SSHD.exists() or shutil.which("unshare") is None:
        raise RuntimeError("openssh-server (/usr/sbin/sshd) and unshare are needed; "
                           "`make test` installs them (.ci/setup, as root)")
    base.mkdir(parents=True, exist_ok=True)
    _keygen(base / "host_key")
    _keygen(base / "user_key")
    shutil.copy(base / "user_key.pub", base / "authorized_keys")
    (base / "backing").mkdir()
    (base / "hostroot").mkdir()
    server = SshServer("127.0.0.1", 0, "root", base / "user_key", base / "known_hosts",
                       base / "host_key", PurePosixPath(base / "hostroot"), base / "backing")
    proc = None
    for _ in range(5):
        server.port = _free_port()
        proc = _start(base, server, base / "sshd_config")
        if proc is not None:
            break
    if proc is None:
        raise RuntimeError("sshd did not start: " + " | ".join(server.log[-5:]))
    server.known_hosts.write_text(known_hosts_line(server.port, base / "host_key.pub"))
    drain = threading.Thread(target=_drain, args=(proc, server.log), daemon=True)
    drain.start()
    try:
        yield server
    finally:
        children = _namespace_pids(proc.pid)
        proc.terminate()
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class SilentHost:
    """A TCP listener that accepts connections and never sends a byte."""

    port: int
    accepted: threading.Event
    hung_up: threading.Event


@contextmanager
def silent_host() -> Iterator[SilentHost]:
    """Listen on 127.0.0.1 at a free port; `accepted` is set when a client connects and
    `hung_up` when that client gives up and closes its end."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    host = SilentHost(listener.getsockname()[1], threading.Event(), threading.Event())
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            host.accepted.set()
            threading.Thread(target=_watch, args=(conn, host.hung_up), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        stop.set()
        listener.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # sends FIN now, even with a reader blocked
            except OSError:
                pass
            conn.close()


def _watch(conn: socket.socket, hung_up: threading.Event) -> None:
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    hung_up.set()
