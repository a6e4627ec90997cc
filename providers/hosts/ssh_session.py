"""One pooled SSH connection to a host: connect with strict host keys, reuse, reconnect.

Runs on the shared ssh event loop (`ssh_loop`). The connection and its SFTP channel are
opened on first use and reused by every later call; when the connection has dropped the
next call opens a new one. Failures become `HostError`s with one line naming the host.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.hosts.base import HostError, HostKeyError, HostUnreachable

if TYPE_CHECKING:
    import asyncssh


CHANNELS = 4
"""Command channels one connection opens at once; further calls wait for a free one.
(OpenSSH allows 10 sessions per connection by default and frees one a little after its
channel closes; SFTP holds one for good.)"""


@dataclass(frozen=True)
class SshTarget:
    """Where and how to log in; paths are absolute on the controller."""

    host: str
    address: str
    port: int = 22
    user: str | None = None
    identity_file: Path | None = None
    identity_env: str | None = None
    known_hosts: Path = Path("~/.ssh/known_hosts")
    connect_timeout: float = 10.0
    command_timeout: float = 300.0

    @property
    def where(self) -> str:
        """`user@address:port` for messages."""
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.address}:{self.port}"


class SshSession:
    """The pooled connection of one transport; every method runs on the ssh event loop."""

    def __init__(self, target: SshTarget) -> None:
        self.target = target
        self.connects = 0
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock: asyncio.Lock | None = None
        self._slots: asyncio.Semaphore | None = None

    def slots(self) -> asyncio.Semaphore:
        """Bounds the command channels open at once on the connection (see CHANNELS)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(CHANNELS)
        return self._slots

    async def connection(self) -> asyncssh.SSHClientConnection:
        """The live connection, opened (or reopened after a drop) when needed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._conn is None or self._conn.is_closed():
                self._sftp = None
                self._conn = await self._connect()
                self.connects += 1
            return self._conn

    async def sftp(self) -> asyncssh.SFTPClient:
        """The connection's SFTP client, started once per connection."""
        conn = await self.connection()
        assert self._lock is not None
        async with self._lock:
            if self._sftp is None:
                self._sftp = await conn.start_sftp_client()
            return self._sftp

    def forget(self) -> None:
        """Drop a connection that failed, so the next call reconnects."""
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()

    async def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            await conn.wait_closed()

    async def _connect(self) -> asyncssh.SSHClientConnection:
        import asyncssh

        logging.getLogger("asyncssh").setLevel(logging.WARNING)  # drydock reports failures

        t = self.target
        known = _known_hosts(t)
        options: dict[str, Any] = {
            "known_hosts": known, "config": None,
            "connect_timeout": t.connect_timeout, "login_timeout": t.connect_timeout,
            "keepalive_interval": max(t.connect_timeout, 5.0), "keepalive_count_max": 3,
        }
        if t.user:
            options["username"] = t.user
        if t.identity_file is not None:
            options.update(client_keys=[str(t.identity_file)], agent_path=None)
        elif t.identity_env is not None:
            options.update(client_keys=[_key_from_env(t)], agent_path=None)
        try:
            return await asyncio.wait_for(
                asyncssh.connect(t.address, t.port, **options), t.connect_timeout)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise _key_refused(t, known) from exc
        except TimeoutError as exc:
            raise HostUnreachable(
                f"{t.host}: no SSH answer from {t.where} within {t.connect_timeout:g}s "
                "(connect_timeout)") from exc
        except asyncssh.PermissionDenied as exc:
            raise HostUnreachable(f"{t.host}: {t.where} refused our key (check 'user' and "
                                  "'identity', and the key in authorized_keys)") from exc
        except (OSError, asyncssh.Error) as exc:
            raise HostUnreachable(f"{t.host}: cannot connect to {t.where}: "
                                  f"{_reason(exc)}") from exc


def _known_hosts(t: SshTarget) -> asyncssh.SSHKnownHosts:
    import asyncssh

    try:
        return asyncssh.read_known_hosts(str(t.known_hosts))
    except (OSError, ValueError) as exc:
        raise HostKeyError(
            f"{t.host}: cannot read known_hosts {t.known_hosts} ({_reason(exc)}); the host key "
            "of every ssh host must be known before drydock connects") from exc


def _key_from_env(t: SshTarget) -> asyncssh.SSHKey:
    import asyncssh

    text = os.environ.get(t.identity_env or "")
    if text is None:
        raise HostUnreachable(f"{t.host}: identity env:{t.identity_env} is not set")
    try:
        return asyncssh.import_private_key(text)
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise HostUnreachable(f"{t.host}: identity env:{t.identity_env} is not a private "
                              "key") from exc


def _key_refused(t: SshTarget, known: asyncssh.SSHKnownHosts) -> HostKeyError:
    host_keys = known.match(t.address, t.address, t.port)[0]
    if host_keys:
        return HostKeyError(
            f"{t.host}: the host key of {t.address}:{t.port} has CHANGED: it matches none of "
            f"the keys in {t.known_hosts}; refused (verify the new fingerprint out of band "
            "before replacing the entry)")
    return HostKeyError(
        f"{t.host}: the host key of {t.address}:{t.port} is unknown: not in {t.known_hosts}; "
        "refused (add it with ssh-keyscan after checking its fingerprint)")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def translate(exc: BaseException, host: str, what: str) -> HostError:
    """The one-line HostError for an asyncssh or OS failure while doing `what`."""
    import asyncssh

    if isinstance(exc, HostError):
        return exc
    if isinstance(exc, asyncssh.SFTPError):
        return HostError(f"{host}: {what}: {_reason(exc)}")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return HostUnreachable(f"{host}: the SSH server refused a channel for {what}: "
                               f"{_reason(exc)}")
    if isinstance(exc, asyncssh.DisconnectError | ConnectionError | BrokenPipeError |
                  EOFError):
        return HostUnreachable(f"{host}: connection lost during {what}: {_reason(exc)}")
    return HostError(f"{host}: {what}: {_reason(exc)}")


def lost_connection(exc: BaseException) -> bool:
    """True when `exc` means the connection itself is gone (worth one reconnect)."""
    import asyncssh

    return isinstance(exc, asyncssh.DisconnectError |
                      asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection |
                      ConnectionError | BrokenPipeError)
