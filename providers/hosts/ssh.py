"""The ssh transport: a host reached with asyncssh over one pooled, strictly verified connection.

Files move over SFTP in chunks (atomic writes: a temp name beside the target, fsync, then
posix-rename); facts (stat, listings, walks, hashes, real paths) and tree operations run
as fixed sh scripts whose arguments are quoted, never interpolated (`remote_sh`); trees
move as tar streams, and a stream going to the host is checked on the controller first
(`tarfilter`). Unknown or changed host keys are refused; a host that does not answer
fails within `connect_timeout` with `HostUnreachable` naming it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from providers.hosts import remote_sh
from providers.hosts.base import (
    CommandResult,
    DirEntry,
    FileStat,
    HostError,
    HostUnreachable,
    Transport,
)
from providers.hosts.ssh_loop import LoopThread, shared_loop
from providers.hosts.ssh_process import RemoteProcess
from providers.hosts.ssh_session import SshSession, SshTarget, lost_connection, translate
from providers.hosts.ssh_streams import buffered_reader, buffered_writer

if TYPE_CHECKING:
    from engine.spec.infra import Host

T = TypeVar("T")
MARGIN = 5.0
BATCH = 500


def _spec_path(value: str, spec_dir: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else spec_dir / path


class SshTransport(Transport):
    """Reaches one host over SSH; safe to use from many threads at once."""

    def __init__(self, target: SshTarget, loop: LoopThread | None = None) -> None:
        self.host = target.host
        self.target = target
        self._session = SshSession(target)
        self._loop = loop or shared_loop()

    @classmethod
    def from_spec(cls, name: str, host: Host, spec_dir: Path) -> SshTransport:
        """The transport for host `name` of a spec; relative key files are relative to
        `spec_dir`, `~` expands; nothing connects until the first call."""
        identity = host.identity
        target = SshTarget(
            host=name, address=host.address or "", port=host.port, user=host.user,
            identity_file=_spec_path(identity.file, spec_dir) if identity and identity.file
            else None,
            identity_env=identity.env if identity else None,
            known_hosts=_spec_path(host.known_hosts.file if host.known_hosts
                                   else "~/.ssh/known_hosts", spec_dir),
            connect_timeout=host.connect_timeout.total_seconds(),
            command_timeout=host.command_timeout.total_seconds(),
        )
        return cls(target)

    @property
    def connections_made(self) -> int:
        """How many SSH connections this transport has opened (1 while the pool holds)."""
        return self._session.connects

    # -- running on the loop -------------------------------------------------------------
    def _call(self, fn: Callable[[], Awaitable[T]], what: str, *,
              timeout: float | None = None, retry: bool = False) -> T:
        """Connect if needed (bounded by connect_timeout), then await `fn()` bounded by
        `timeout` (default command_timeout). Errors become one-line HostErrors; with
        `retry`, a call that found its pooled connection dead runs once more."""
        limit = timeout if timeout is not None else self.target.command_timeout
        reused = self._session.connects > 0

        async def go() -> T:
            await self._session.connection()
            return await asyncio.wait_for(fn(), limit)

        try:
            return self._loop.call(go(), limit + self.target.connect_timeout + MARGIN)
        except HostError:
            raise
        except TimeoutError as exc:
            # The connection stays: other calls may be using it, and keepalives drop it
            # when the host itself has stopped answering.
            raise HostUnreachable(f"{self.host}: {what}: no answer within {limit:g}s "
                                  "(command_timeout)") from exc
        except Exception as exc:
            if lost_connection(exc):
                self._loop.call(self._drop(), MARGIN)
                if retry and reused:
                    return self._call(fn, what, timeout=timeout, retry=False)
            raise translate(exc, self.host, what) from exc

    async def _drop(self) -> None:
        self._session.forget()

    def _caller(self, what: str) -> Callable[[Callable[[], Awaitable[Any]]], Any]:
        return lambda fn: self._call(fn, what)

    def _script(self, script: str, *args: str, what: str, ok: tuple[int, ...] = (0,),
                retry: bool = True) -> tuple[int, bytes, str]:
        """Run a fixed script; returns (exit code, stdout, stderr); HostError on other codes."""
        command = remote_sh.command(script, *args)

        async def go() -> tuple[int, bytes, str]:
            async with RemoteProcess(self._session, command) as proc:
                return await proc.communicate(b"")

        code, out, err = self._call(go, what, retry=retry)
        if code not in ok:
            raise HostError(f"{self.host}: {what}: "
                            f"{remote_sh.first_line(err, f'exit status {code}')}")
        return code, out, err

    # -- facts -----------------------------------------------------------------------------
    def stat(self, path: PurePosixPath) -> FileStat | None:
        """`lstat` through `find -printf`, so inode and nanosecond mtime match local."""
        code, out, _ = self._script(remote_sh.STAT, str(path), what=str(path),
                                    ok=(0, remote_sh.ABSENT))
        if code == remote_sh.ABSENT:
            return None
        found = remote_sh.parse_find(out)
        return found[0][1] if found else None

    def list_dir(self, path: PurePosixPath) -> list[DirEntry]:
        """One `find -maxdepth 1` listing; [] when absent."""
        code, out, _ = self._script(remote_sh.LIST, str(path), what=str(path),
                                    ok=(0, remote_sh.ABSENT))
        entries = [DirEntry(name, st) for name, st in remote_sh.parse_find(out)]
        return sorted(entries, key=lambda e: e.name)

    def walk(self, path: PurePosixPath) -> Iterator[tuple[PurePosixPath, FileStat]]:
        """One `find` for the whole tree, sorted so parents come first."""
        _, out, _ = self._script(remote_sh.WALK, str(path), what=str(path),
                                 ok=(0, remote_sh.ABSENT))
        found = [(PurePosixPath(name), st) for name, st in remote_sh.parse_find(out)]
        yield from sorted(found, key=lambda item: item[0].parts)

    def realpath(self, path: PurePosixPath) -> PurePosixPath:
        """`realpath -m` on the host."""
        _, out, _ = self._script(remote_sh.REALPATH, str(path), what=str(path))
        return PurePosixPath(out.decode("utf-8", "surrogateescape").rstrip("\n"))

    def sha256(self, path: PurePosixPath) -> str:
        """`sha256sum` on the host (nothing is streamed)."""
        _, out, _ = self._script(remote_sh.SHA256, str(path), what=str(path))
        return remote_sh.parse_sha256(out.decode("utf-8", "replace"))

    def free_bytes(self, path: PurePosixPath) -> int:
        """SFTP statvfs (OpenSSH's `statvfs@openssh.com`) of `path` or, when it is absent,
        of its nearest existing parent; GNU `stat -f` when the SFTP server lacks statvfs."""
        import asyncssh

        absent = (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath, asyncssh.SFTPNotADirectory)

        async def go() -> int | None:
            sftp = await self._session.sftp()
            probe = path
            while True:
                try:
                    st = await sftp.statvfs(str(probe))
                except asyncssh.SFTPOpUnsupported:
                    return None
                except absent:
                    if probe.parent == probe:
                        raise
                    probe = probe.parent
                    continue
                return int(st.bavail) * int(st.frsize)

        found = self._call(go, str(path), retry=True)
        if found is not None:
            return found
        _, out, _ = self._script(remote_sh.FREE_BYTES, str(path), what=str(path))
        return remote_sh.parse_free_bytes(out.decode("ascii", "replace"), self.host, path)

    def sha256_many(self, paths: Sequence[PurePosixPath]) -> dict[PurePosixPath, str | None]:
        """`sha256` of many files in one command per BATCH paths (not in the Transport
        interface yet); None for a path that is absent or unreadable."""
        found: dict[PurePosixPath, str | None] = {}
        for start in range(0, len(paths), BATCH):
            batch = [str(p) for p in paths[start:start + BATCH]]
            _, out, _ = self._script(remote_sh.SHA256_MANY, *batch, what=f"sha256 of {batch[0]}",
                                     ok=(0, 1))
            digests = remote_sh.parse_sha256_many(out)
            found.update({PurePosixPath(p): digests.get(p) for p in batch})
        return found

    # -- file content ----------------------------------------------------------------------
    @contextmanager
    def _open_read(self, path: PurePosixPath) -> Iterator[BinaryIO]:
        what = str(path)

        async def open_() -> Any:
            sftp = await self._session.sftp()
            return await sftp.open(what, "rb")

        handle = self._call(open_, what, retry=True)
        reader = buffered_reader(self._caller(what), handle.read)
        try:
            yield reader  # type: ignore[misc]
        finally:
            try:
                self._call(handle.close, what)
            except HostError:
                pass

    def open_read(self, path: PurePosixPath) -> AbstractContextManager[BinaryIO]:
        """An SFTP read stream, one chunk per round trip."""
        return self._open_read(path)

    @contextmanager
    def _open_write(self, path: PurePosixPath, mode: int) -> Iterator[BinaryIO]:
        import asyncssh

        final = str(path)
        temp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        self.mkdir(path.parent)

        async def open_() -> Any:
            sftp = await self._session.sftp()
            return await sftp.open(temp, "xb", asyncssh.SFTPAttrs(permissions=0o600))

        handle = self._call(open_, final)
        writer = buffered_writer(self._caller(final), handle.write)
        try:
            yield writer  # type: ignore[misc]
            writer.flush()
            self._call(lambda: _finish(self._session, handle, temp, final, mode), final)
        except BaseException:
            writer.raw.abandon()  # type: ignore[attr-defined]
            self._discard(handle, temp)
            raise
        finally:
            writer.raw.abandon()  # type: ignore[attr-defined]
            writer.close()

    def _discard(self, handle: Any, temp: str) -> None:
        async def go() -> None:
            try:
                await handle.close()
            finally:
                await (await self._session.sftp()).remove(temp)

        try:
            self._call(go, temp)
        except HostError:
            pass

    def open_write(self, path: PurePosixPath, *, mode: int = 0o644
                   ) -> AbstractContextManager[BinaryIO]:
        """Atomic SFTP write: temp file beside the target, fsync, chmod, posix-rename."""
        return self._open_write(path, mode)

    # -- tree changes ----------------------------------------------------------------------
    def mkdir(self, path: PurePosixPath, *, mode: int = 0o755, parents: bool = True) -> None:
        """SFTP mkdir (with parents)."""
        import asyncssh

        async def go() -> None:
            sftp = await self._session.sftp()
            attrs = asyncssh.SFTPAttrs(permissions=mode)
            if parents:
                await sftp.makedirs(str(path), attrs, exist_ok=True)
            elif not await sftp.isdir(str(path)):
                await sftp.mkdir(str(path), attrs)

        self._call(go, str(path), retry=True)

    def rename(self, src: PurePosixPath, dst: PurePosixPath) -> None:
        """posix-rename over SFTP (replaces `dst` atomically)."""
        async def go() -> None:
            await (await self._session.sftp()).posix_rename(str(src), str(dst))

        self._call(go, str(src))

    def remove(self, path: PurePosixPath) -> bool:
        """SFTP unlink or rmdir; False when nothing was there."""
        st = self.stat(path)
        if st is None:
            return False

        async def go() -> None:
            sftp = await self._session.sftp()
            await (sftp.rmdir(str(path)) if st.kind == "dir" else sftp.remove(str(path)))

        self._call(go, str(path))
        return True

    def remove_tree(self, path: PurePosixPath) -> bool:
        """`rm -rf` on the host (links are removed, never followed)."""
        code, _, _ = self._script(remote_sh.REMOVE_TREE, str(path), what=str(path),
                                  ok=(0, remote_sh.ABSENT))
        return code != remote_sh.ABSENT

    def copy_tree(self, src: PurePosixPath, dst: PurePosixPath, *, link: bool = False) -> None:
        """`cp -a` on the host (`cp -al` first when `link`)."""
        code, _, _ = self._script(remote_sh.COPY_TREE, str(src), str(dst), "1" if link else "0",
                                  what=str(src), ok=(0, remote_sh.ABSENT), retry=False)
        if code == remote_sh.ABSENT:
            raise HostError(f"{self.host}: {src}: no such file or folder")

    def chmod(self, path: PurePosixPath, mode: int) -> None:
        """SFTP chmod."""
        async def go() -> None:
            await (await self._session.sftp()).chmod(str(path), mode)

        self._call(go, str(path), retry=True)

    # -- processes and tar streams (ssh_process) ---------------------------------------------
    def run(self, argv: Sequence[str], *, cwd: PurePosixPath | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600,
            stdin: bytes | None = None) -> CommandResult:
        """Run `argv` through `remote_sh.RUN`; env values travel on stdin, never on the
        command line. Timeout: 124 (the remote process is killed); missing program: 127."""
        from providers.hosts.ssh_run import run_remote

        return run_remote(self, argv, cwd=cwd, env=env, timeout=timeout, stdin=stdin)

    def tar_out(self, root: PurePosixPath, members: Sequence[str] = ()
                ) -> AbstractContextManager[BinaryIO]:
        """Remote `tar -c` streamed back chunk by chunk."""
        from providers.hosts.ssh_run import tar_out_remote

        return tar_out_remote(self, root, members)

    def tar_in(self, root: PurePosixPath, stream: BinaryIO) -> None:
        """Check `stream` on the controller (`tarfilter`) while it feeds remote `tar -x`."""
        from providers.hosts.ssh_run import tar_in_remote

        tar_in_remote(self, root, stream)

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the pooled connection; the next call reconnects."""
        try:
            self._loop.call(self._session.close(), MARGIN + self.target.connect_timeout)
        except (TimeoutError, OSError):
            self._loop.loop.call_soon_threadsafe(self._session.forget)

    @property
    def session(self) -> SshSession:
        """The pooled connection (for the command and tar functions of `ssh_run`)."""
        return self._session

    def call(self, fn: Callable[[], Awaitable[T]], what: str, *,
             timeout: float | None = None) -> T:
        """Run `fn` on the ssh loop like every primitive does (for `ssh_run`)."""
        return self._call(fn, what, timeout=timeout)


async def _finish(session: SshSession, handle: Any, temp: str, final: str, mode: int) -> None:
    import asyncssh

    try:
        await handle.fsync()
    except asyncssh.SFTPOpUnsupported:
        pass
    await handle.close()
    sftp = await session.sftp()
    await sftp.chmod(temp, mode)
    await sftp.posix_rename(temp, final)


__all__ = ["SshTarget", "SshTransport"]
