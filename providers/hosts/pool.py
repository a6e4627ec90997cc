"""The host pool of a run: one transport per spec host, made on first use, shared, closed.

Every provider that touches hosts gets the run's pool from the composition root and asks
it for the transport of the host an action or a resource names. A transport is created
once per host (lazily, under a lock, so concurrent actions share it) and reused by every
later action; `close()` at the end of a run releases them all (a later `get` opens new
ones). A host found unreachable stays unreachable for the rest of the run: its other
resources fail at once with the same one-line error instead of waiting for the timeout
again, while every other host carries on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import PurePosixPath
from typing import Any, BinaryIO, TypeVar

from engine.contracts.witness import Witness, answer_of, failed_answer
from engine.spec.infra import Host
from engine.spec.loader import LoadedSpec
from providers.hosts.base import (
    CommandResult,
    DirEntry,
    FileStat,
    HostError,
    HostUnreachable,
    Transport,
)
from providers.hosts.factory import transport_for_host
from providers.hosts.local import LocalTransport

CONTROLLER = "controller"
"""The name of this machine when a path is the controller's own (plain `root` paths
backups, `dir:` restore targets, drill folders without a host)."""

T = TypeVar("T")
Factory = Callable[..., Transport]
"""`factory(name, host, spec_dir)` makes a transport; called with `address=` too when the
spec leaves the host's address open and the pool knows it."""
Resolver = Callable[[LoadedSpec, str], "str | None"]
"""`resolve(spec, name)`: where a host whose spec leaves its address open is (an EC2
host: its instance's private IP), or None when nothing says."""


class HostPool:
    """Maps spec host names to their transports for the length of a run (thread-safe).

    A host whose spec leaves `address` open (an EC2 host) is reached at the address the
    run learned for it (`learn_address`, from the launch of its instance), else at what
    `resolve` finds (the live instance's); that address is passed to the factory.
    """

    def __init__(self, factory: Factory = transport_for_host,
                 resolve: Resolver | None = None) -> None:
        self._factory = factory
        self._resolve = resolve
        self._lock = threading.Lock()
        self._open: dict[str, _Guarded] = {}
        self._addresses: dict[str, str] = {}
        self._controller = LocalTransport(CONTROLLER)
        self._witness: Witness | None = None

    @contextmanager
    def witnessed(self, witness: Witness) -> Iterator[Witness]:
        """Write every read made through the hosts' transports into `witness` until the
        block ends (a refresh); a host that is not this machine spoils it."""
        with self._lock:
            self._witness = witness
            opened = list(self._open.values())
        for guarded in opened:
            guarded.watch(witness)
        try:
            yield witness
        finally:
            with self._lock:
                self._witness = None
                opened = list(self._open.values())
            for guarded in opened:
                guarded.watch(None)

    def learn_address(self, host: str, address: str) -> None:
        """Reach `host` at `address` from now on (a launched instance's private IP); a
        transport opened to it before is closed."""
        with self._lock:
            self._addresses[host] = address
            stale = self._open.pop(host, None)
        if stale is not None:
            try:
                stale.close()
            except OSError:
                pass

    def address_of(self, spec: LoadedSpec, host: str) -> str | None:
        """The address the pool reaches `host` at when its spec leaves it open, or None
        (the spec gives one, or nothing is known)."""
        declared = spec.env.hosts.get(host)
        if declared is None or declared.address:
            return None
        learned = self._addresses.get(host)
        if learned is None and self._resolve is not None:
            learned = self._resolve(spec, host)
        return learned

    def _make(self, spec: LoadedSpec, host: str, declared: Host) -> Transport:
        address = self.address_of(spec, host)
        if address is None:
            return self._factory(host, declared, spec.directory)
        return self._factory(host, declared, spec.directory, address=address)

    def get(self, spec: LoadedSpec, host: str | None) -> Transport:
        """The transport of spec host `host`; this machine for None (paths of the controller
        and records written before actions named their host).

        Raises HostError when the spec declares no such host.
        """
        if host is None:
            return self._controller
        with self._lock:
            found = self._open.get(host)
            if found is None:
                declared = spec.env.hosts.get(host)
                if declared is None:
                    raise HostError(f"host {host!r} is not declared in the spec")
                found = self._open[host] = _Guarded(self._make(spec, host, declared))
                if self._witness is not None:
                    found.watch(self._witness)
            return found

    @property
    def controller(self) -> Transport:
        """The transport of this machine."""
        return self._controller

    def hosts(self) -> list[str]:
        """The hosts with an open transport, sorted."""
        with self._lock:
            return sorted(self._open)

    def close(self) -> None:
        """Close every transport of the run; errors while closing are ignored."""
        with self._lock:
            opened, self._open = list(self._open.values()), {}
        for transport in opened:
            try:
                transport.close()
            except OSError:
                pass


class _Guarded(Transport):
    """A transport that remembers the host went unreachable and fails fast from then on."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.host = inner.host
        self._down: HostUnreachable | None = None
        self._witness: Witness | None = None

    def watch(self, witness: Witness | None) -> None:
        """Write the reads into `witness` from now on (None: stop)."""
        if witness is not None and type(self.inner) is not LocalTransport:
            witness.spoil(f"host {self.host} is not this machine")
        self._witness = witness

    def __getattr__(self, name: str) -> object:
        """Anything beyond the interface (a transport's own extras) comes from the inner one."""
        inner = self.__dict__.get("inner")
        if inner is None:
            raise AttributeError(name)
        self._spoil(name)
        return getattr(inner, name)

    def _spoil(self, what: str) -> None:
        witness = self.__dict__.get("_witness")
        if witness is not None:
            witness.spoil(f"host {self.host}: {what}")

    def _seen(self, op: str, path: object, result: Any) -> None:
        witness = self._witness
        if witness is not None:
            answer, stats = answer_of(op, result)
            witness.saw(self.host, op, path, answer, stats)

    def _read(self, op: str, path: PurePosixPath, func: Callable[[], T]) -> T:
        """`func()` through `_call`, its answer (or its failure) written to the witness."""
        try:
            found = self._call(func)
        except OSError as exc:
            witness = self._witness
            if witness is not None:
                witness.saw(self.host, op, path, failed_answer(exc))
            raise
        self._seen(op, path, found)
        return found

    def _call(self, func: Callable[[], T]) -> T:
        if self._down is not None:
            raise HostUnreachable(str(self._down))
        try:
            return func()
        except HostUnreachable as exc:
            self._down = exc
            raise

    @contextmanager
    def _stream(self, opener: Callable[[], AbstractContextManager[BinaryIO]]
                ) -> Iterator[BinaryIO]:
        manager = self._call(opener)
        try:
            with manager as handle:
                yield handle
        except HostUnreachable as exc:
            self._down = exc
            raise

    def stat(self, path: PurePosixPath) -> FileStat | None:
        """See Transport."""
        return self._read("stat", path, lambda: self.inner.stat(path))

    def list_dir(self, path: PurePosixPath) -> list[DirEntry]:
        """See Transport."""
        return self._read("list_dir", path, lambda: self.inner.list_dir(path))

    def walk(self, path: PurePosixPath) -> Iterator[tuple[PurePosixPath, FileStat]]:
        """See Transport."""
        return iter(self._read("walk", path, lambda: list(self.inner.walk(path))))

    def realpath(self, path: PurePosixPath) -> PurePosixPath:
        """See Transport."""
        return self._read("realpath", path, lambda: self.inner.realpath(path))

    def sha256(self, path: PurePosixPath) -> str:
        """See Transport."""
        return self._read("sha256", path, lambda: self.inner.sha256(path))

    def free_bytes(self, path: PurePosixPath) -> int:
        """See Transport."""
        self._spoil("free space asked")
        return self._call(lambda: self.inner.free_bytes(path))

    def open_read(self, path: PurePosixPath) -> AbstractContextManager[BinaryIO]:
        """See Transport."""
        self._spoil(f"{path} streamed")
        return self._stream(lambda: self.inner.open_read(path))

    def read_bytes(self, path: PurePosixPath, *, limit: int = 1 << 24) -> bytes:
        """See Transport."""
        return self._read(f"read_bytes:{limit}", path,
                          lambda: self.inner.read_bytes(path, limit=limit))

    def open_write(self, path: PurePosixPath, *, mode: int = 0o644
                   ) -> AbstractContextManager[BinaryIO]:
        """See Transport."""
        self._spoil("open write")
        return self._stream(lambda: self.inner.open_write(path, mode=mode))

    def write_atomic(self, path: PurePosixPath, data: bytes, *, mode: int = 0o644) -> None:
        """See Transport."""
        self._spoil("write atomic")
        self._call(lambda: self.inner.write_atomic(path, data, mode=mode))

    def mkdir(self, path: PurePosixPath, *, mode: int = 0o755, parents: bool = True) -> None:
        """See Transport."""
        self._spoil("mkdir")
        self._call(lambda: self.inner.mkdir(path, mode=mode, parents=parents))

    def rename(self, src: PurePosixPath, dst: PurePosixPath) -> None:
        """See Transport."""
        self._spoil("rename")
        self._call(lambda: self.inner.rename(src, dst))

    def remove(self, path: PurePosixPath) -> bool:
        """See Transport."""
        self._spoil("remove")
        return self._call(lambda: self.inner.remove(path))

    def remove_tree(self, path: PurePosixPath) -> bool:
        """See Transport."""
        self._spoil("remove tree")
        return self._call(lambda: self.inner.remove_tree(path))

    def copy_tree(self, src: PurePosixPath, dst: PurePosixPath, *, link: bool = False) -> None:
        """See Transport."""
        self._spoil("copy tree")
        self._call(lambda: self.inner.copy_tree(src, dst, link=link))

    def chmod(self, path: PurePosixPath, mode: int) -> None:
        """See Transport."""
        self._spoil("chmod")
        self._call(lambda: self.inner.chmod(path, mode))

    def run(self, argv: Sequence[str], *, cwd: PurePosixPath | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600,
            stdin: bytes | None = None) -> CommandResult:
        """See Transport."""
        self._spoil("run")
        return self._call(lambda: self.inner.run(argv, cwd=cwd, env=env, timeout=timeout,
                                                 stdin=stdin))

    def tar_out(self, root: PurePosixPath, members: Sequence[str] = ()
                ) -> AbstractContextManager[BinaryIO]:
        """See Transport."""
        self._spoil("tar out")
        return self._stream(lambda: self.inner.tar_out(root, members))

    def tar_in(self, root: PurePosixPath, stream: BinaryIO) -> None:
        """See Transport."""
        self._spoil("tar in")
        self._call(lambda: self.inner.tar_in(root, stream))

    def close(self) -> None:
        """Close the inner transport (a later use reconnects)."""
        self._down = None
        self.inner.close()
