"""Commands and tar streams on an ssh host: `run`, `tar_out` and `tar_in` of SshTransport."""

from __future__ import annotations

import asyncio
import tarfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import PurePosixPath
from typing import BinaryIO, Protocol, TypeVar

from providers.hosts import remote_sh
from providers.hosts.base import CommandResult, DirEntry, FileStat, HostError
from providers.hosts.ssh_process import RemoteProcess
from providers.hosts.ssh_session import SshSession
from providers.hosts.ssh_streams import buffered_reader, buffered_writer
from providers.hosts.tarfilter import copy_checked_tar
from safefs.pathsafety import UnsafePathError

T = TypeVar("T")


class SshTransport(Protocol):
    """What these functions need of `providers.hosts.ssh.SshTransport` (a protocol, so
    this module does not import the transport that imports it)."""

    host: str

    @property
    def session(self) -> SshSession:
        """The pooled connection."""

    def call(self, fn: Callable[[], Awaitable[T]], what: str, *,
             timeout: float | None = None) -> T:
        """Run `fn` on the ssh loop."""

    def stat(self, path: PurePosixPath) -> FileStat | None:
        """lstat on the host."""

    def list_dir(self, path: PurePosixPath) -> list[DirEntry]:
        """A listing on the host."""

    def remove_tree(self, path: PurePosixPath) -> bool:
        """rm -rf on the host."""

MARGIN = 5.0
TIMED_OUT = 124


def run_remote(t: SshTransport, argv: Sequence[str], *, cwd: PurePosixPath | None,
               env: Mapping[str, str] | None, timeout: float,
               stdin: bytes | None) -> CommandResult:
    """Run `argv` on the host; secrets in `env` go on stdin ahead of `stdin`'s bytes."""
    command = remote_sh.run_command(argv, cwd, bool(env), timeout)
    data = (remote_sh.env_block(env) if env else b"") + (stdin or b"")

    async def go() -> tuple[int, bytes, str] | None:
        async with RemoteProcess(t.session, command) as proc:
            try:
                return await asyncio.wait_for(proc.communicate(data), timeout + MARGIN)
            except TimeoutError:
                proc.kill_quietly()
                return None

    done = t.call(go, f"command {argv[0]!r}", timeout=timeout + 2 * MARGIN)
    if done is None:
        return CommandResult(tuple(argv), TIMED_OUT, "", f"timed out after {timeout:g}s")
    code, out, err = done
    if code == TIMED_OUT and not err.strip():
        err = f"timed out after {timeout:g}s"  # GNU timeout itself says nothing
    return CommandResult(tuple(argv), code, out.decode("utf-8", "replace"), err)


@contextmanager
def _tar_out(t: SshTransport, root: PurePosixPath, members: Sequence[str]
             ) -> Iterator[BinaryIO]:
    what = f"tar of {root}"
    names = list(members) or [e.name for e in t.list_dir(root)]
    proc = RemoteProcess(t.session, remote_sh.command(remote_sh.TAR_OUT, str(root), *names))
    t.call(proc.start, what)
    finished = False
    try:
        yield buffered_reader(lambda fn: t.call(fn, what), proc.read)  # type: ignore[misc]
        read_all = t.call(_at_eof(proc), what)
        code, _, err = t.call(lambda: proc.finish(kill=not read_all), what)
        finished = True
        if read_all and code != 0:
            raise HostError(f"{t.host}: {what}: {remote_sh.first_line(err, f'exit {code}')}")
    finally:
        if not finished:
            _end(t, proc, what)


def _at_eof(proc: RemoteProcess):  # noqa: ANN202 - a coroutine factory
    async def go() -> bool:
        return proc.at_eof()

    return go


def _end(t: SshTransport, proc: RemoteProcess, what: str) -> None:
    try:
        t.call(lambda: proc.finish(kill=True), what)
    except HostError:
        pass


def tar_out_remote(t: SshTransport, root: PurePosixPath, members: Sequence[str]
                   ) -> AbstractContextManager[BinaryIO]:
    """A context manager yielding the remote `tar -c` output as a stream."""
    return _tar_out(t, root, members)


def tar_in_remote(t: SshTransport, root: PurePosixPath, stream: BinaryIO) -> None:
    """Feed the checked members of `stream` to `tar -x` in `root` on the host.

    On a refused member the remote tar is killed and what it extracted is removed (root is
    empty or absent by contract), then HostError names the member.
    """
    what = f"tar into {root}"
    existed = t.stat(root) is not None
    proc = RemoteProcess(t.session, remote_sh.command(remote_sh.TAR_IN, str(root)))
    t.call(lambda: proc.start(drain_stdout=True), what)
    sink = buffered_writer(lambda fn: t.call(fn, what), proc.write)
    try:
        copy_checked_tar(stream, sink, label=f"{t.host}: tar stream into {root}")
        sink.flush()
    except (UnsafePathError, tarfile.TarError) as exc:
        _end(t, proc, what)
        _clean(t, root, existed)
        raise HostError(str(exc).splitlines()[0]) from exc
    except HostError as exc:
        code, _, err = t.call(lambda: proc.finish(kill=True), what)
        if err.strip():
            raise HostError(f"{t.host}: {what}: {remote_sh.first_line(err, '')}") from exc
        raise
    except BaseException:
        _end(t, proc, what)
        raise
    code, _, err = t.call(proc.finish, what)
    if code != 0:
        raise HostError(f"{t.host}: {what}: {remote_sh.first_line(err, f'exit {code}')}")


def _clean(t: SshTransport, root: PurePosixPath, existed: bool) -> None:
    if not existed:
        t.remove_tree(root)
        return
    for entry in t.list_dir(root):
        t.remove_tree(root / entry.name)
