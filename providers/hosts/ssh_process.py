"""One command on an ssh host: a channel taken from the connection's slots, its pipes, its end.

Async, on the ssh event loop. stderr (and stdout, when nobody reads it) is drained in the
background so a chatty command can never stall the channel's flow control.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from providers.hosts.ssh_session import SshSession

if TYPE_CHECKING:
    import asyncssh

STDERR_KEEP = 64 << 10
OPEN_ATTEMPTS = 10


class RemoteProcess:
    """A remote command started with `start()` and always ended with `finish()`."""

    def __init__(self, session: SshSession, command: str) -> None:
        self._session = session
        self._command = command
        self._proc: asyncssh.SSHClientProcess[bytes] | None = None
        self._held = False
        self._done = False
        self._drains: list[asyncio.Task[bytes]] = []

    async def start(self, *, drain_stdout: bool = False) -> RemoteProcess:
        """Open the channel and start the command. A server that refuses a session (its
        MaxSessions is lower, or it has not yet freed a closed one) is asked again a few
        times with a growing pause; the caller's timeout bounds the whole."""
        import asyncssh

        await self._session.slots().acquire()
        self._held = True
        try:
            for attempt in range(OPEN_ATTEMPTS):
                conn = await self._session.connection()
                try:
                    self._proc = await conn.create_process(self._command, encoding=None)
                    break
                except asyncssh.ChannelOpenError:
                    if attempt == OPEN_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.02 * (attempt + 1))
        except BaseException:
            self._release()
            raise
        assert self._proc is not None
        self._drains = [asyncio.ensure_future(self._proc.stderr.read())]
        if drain_stdout:
            self._drains.append(asyncio.ensure_future(self._proc.stdout.read()))
        return self

    @property
    def proc(self) -> asyncssh.SSHClientProcess[bytes]:
        """The started process."""
        assert self._proc is not None, "start() first"
        return self._proc

    async def read(self, size: int) -> bytes:
        """Up to `size` bytes of stdout; b"" at its end."""
        return await self.proc.stdout.read(size)

    async def write(self, data: bytes) -> None:
        """Write to stdin, waiting while the channel's window is full."""
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    def at_eof(self) -> bool:
        """True when stdout has been read to its end."""
        return self.proc.stdout.at_eof()

    async def finish(self, *, kill: bool = False) -> tuple[int, bytes, str]:
        """End the command (killing it when `kill`, else sending EOF and waiting); returns
        (exit code, drained stdout, stderr). A command killed by a signal gives -N;
        ConnectionError when the channel ended without any exit status."""
        proc = self.proc
        try:
            if kill:
                _kill(proc)
            elif not proc.stdin.is_closing():
                proc.stdin.write_eof()
            await proc.wait_closed()
            outputs = [await task for task in self._drains]
            self._done = True
        finally:
            for task in self._drains:
                task.cancel()
            self._release()
        err = outputs[0][:STDERR_KEEP].decode("utf-8", "replace")
        out = outputs[1] if len(outputs) > 1 else b""
        code = proc.returncode
        if code is None:
            if kill:
                return -9, out, err
            raise ConnectionError(f"the command ended without an exit status {err.strip()}")
        return code, out, err

    async def communicate(self, data: bytes) -> tuple[int, bytes, str]:
        """Send `data` and EOF on stdin, collect everything; (code, stdout, stderr)."""
        if data:
            self.proc.stdin.write(data)
        return await self.finish()

    async def __aenter__(self) -> RemoteProcess:
        return await self.start(drain_stdout=True)

    async def __aexit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if not self._done:
            self.kill_quietly()

    def kill_quietly(self) -> None:
        """Kill the command if it runs and give its slot back (for error paths)."""
        if self._proc is not None and not self._done:
            _kill(self._proc)
        for task in self._drains:
            task.cancel()
        self._release()

    def _release(self) -> None:
        if self._held:
            self._held = False
            self._session.slots().release()


def _kill(proc: asyncssh.SSHClientProcess[bytes]) -> None:
    """Signal the remote command to die (OpenSSH honours signal requests) and close."""
    try:
        proc.kill()
    except (OSError, ValueError, RuntimeError):
        pass
    proc.close()
