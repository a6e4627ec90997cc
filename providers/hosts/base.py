"""The host transport interface: the one seam between drydock and a host's files and processes.

Everything that touches a server's home or runs something on a host (product layouts,
server-path backups, snapshot restores into homes, drills into directories, recovery) is
written against `Transport`; nothing above `providers/hosts/` knows whether the host is
this machine (`local`) or another one (`ssh`). Paths on a host are absolute
`PurePosixPath`s. Files from the controller (packs, update packages, patch archives,
rendered templates) are read where drydock runs and streamed through these primitives.

Errors: every method raises `HostError` (an `OSError`) with a one-line message naming the
host; `HostUnreachable` when the host cannot be reached or stops answering.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO, Literal

FileKind = Literal["file", "dir", "link", "other"]


class HostError(OSError):
    """A host operation failed; the message is one line naming the host and the path."""


class HostUnreachable(HostError):
    """The host could not be reached, refused us, or stopped answering within the timeout."""


class HostKeyError(HostUnreachable):
    """The host presented an unknown or changed host key; nothing was sent to it."""


@dataclass(frozen=True)
class CommandResult:
    """Exit code and captured output of a command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0


@dataclass(frozen=True)
class FileStat:
    """What `lstat` tells about a path on a host (links are not followed)."""

    kind: FileKind
    size: int
    mtime_ns: int
    inode: int
    mode: int  # permission bits only (0o7777)


@dataclass(frozen=True)
class DirEntry:
    """One entry of a directory listing."""

    name: str
    stat: FileStat


class Transport(ABC):
    """How drydock reaches one host. Every path is an absolute `PurePosixPath` on that host."""

    host: str = "local"
    """The host's name in the spec, used in every error message."""

    # -- facts ---------------------------------------------------------------------------
    @abstractmethod
    def stat(self, path: PurePosixPath) -> FileStat | None:
        """`lstat` of a path, or None when nothing is there."""

    @abstractmethod
    def list_dir(self, path: PurePosixPath) -> list[DirEntry]:
        """The entries of a directory (not `.`/`..`), sorted by name; [] when it is absent."""

    @abstractmethod
    def walk(self, path: PurePosixPath) -> Iterator[tuple[PurePosixPath, FileStat]]:
        """Every entry below `path` as (path relative to `path`, stat), parents first.

        Links are reported, not followed. Nothing when `path` is absent.
        """

    @abstractmethod
    def realpath(self, path: PurePosixPath) -> PurePosixPath:
        """The path with every symlink resolved (the missing tail kept as it is)."""

    @abstractmethod
    def sha256(self, path: PurePosixPath) -> str:
        """`sha256:<hex>` of a regular file, computed on the host (nothing is streamed)."""

    @abstractmethod
    def free_bytes(self, path: PurePosixPath) -> int:
        """Bytes an unprivileged writer may still use on the file system that holds `path`
        (statvfs `f_bavail * f_frsize`); an absent path is measured at its nearest existing
        parent, so a restore can check its target before creating it."""

    # -- file content ----------------------------------------------------------------------
    @abstractmethod
    def open_read(self, path: PurePosixPath) -> AbstractContextManager[BinaryIO]:
        """A stream of a file's bytes, read in chunks (never whole in memory)."""

    def read_bytes(self, path: PurePosixPath, *, limit: int = 1 << 24) -> bytes:
        """A small file whole; raises HostError when it is larger than `limit` bytes."""
        with self.open_read(path) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise HostError(f"{self.host}: {path} is larger than {limit} bytes")
        return data

    @abstractmethod
    def open_write(self, path: PurePosixPath, *, mode: int = 0o644
                   ) -> AbstractContextManager[BinaryIO]:
        """A stream that writes a file atomically: a temp file beside it, fsync, then rename
        on a clean exit of the context; on an exception the temp file is removed and the old
        file is untouched. Parent folders are created."""

    def write_atomic(self, path: PurePosixPath, data: bytes, *, mode: int = 0o644) -> None:
        """Write a whole file atomically (see `open_write`)."""
        with self.open_write(path, mode=mode) as handle:
            handle.write(data)

    # -- tree changes ----------------------------------------------------------------------
    @abstractmethod
    def mkdir(self, path: PurePosixPath, *, mode: int = 0o755, parents: bool = True) -> None:
        """Create a directory (and its parents); no error when it exists."""

    @abstractmethod
    def rename(self, src: PurePosixPath, dst: PurePosixPath) -> None:
        """Atomically rename on the host (replacing a file or an empty folder at `dst`)."""

    @abstractmethod
    def remove(self, path: PurePosixPath) -> bool:
        """Remove a file or link (or an empty folder); False when nothing was there."""

    @abstractmethod
    def remove_tree(self, path: PurePosixPath) -> bool:
        """Remove a folder and everything below it (links are removed, never followed);
        False when nothing was there."""

    @abstractmethod
    def copy_tree(self, src: PurePosixPath, dst: PurePosixPath, *, link: bool = False) -> None:
        """Copy a file or tree on the host to `dst` (absent), keeping modes and mtimes;
        copy-on-write clones (reflinks) where the file system has them.

        `link=True` hard-links regular files where the file system allows: only for trees
        nobody writes in place (patch jars, update payloads); drydock itself always
        replaces files by rename."""

    @abstractmethod
    def chmod(self, path: PurePosixPath, mode: int) -> None:
        """Set permission bits."""

    # -- processes ---------------------------------------------------------------------------
    @abstractmethod
    def run(self, argv: Sequence[str], *, cwd: PurePosixPath | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600,
            stdin: bytes | None = None) -> CommandResult:
        """Run a command from an argument list (quoted for the remote shell when there is
        one; never interpolated). `env` and `stdin` are how secrets reach a command: never
        the command line. A timeout gives returncode 124; a missing program 127."""

    # -- tar streams ---------------------------------------------------------------------------
    @abstractmethod
    def tar_out(self, root: PurePosixPath, members: Sequence[str] = ()
                ) -> AbstractContextManager[BinaryIO]:
        """An uncompressed tar stream of `members` (relative paths; all of `root` when
        empty) below `root`, names relative to `root`; absent members are skipped."""

    @abstractmethod
    def tar_in(self, root: PurePosixPath, stream: BinaryIO) -> None:
        """Extract an uncompressed tar stream into `root`, an empty or absent folder
        (callers stage into a fresh folder and swap it in with `rename`).

        The stream is untrusted: absolute names, `..`, links that leave `root`, devices
        and other special files are refused with HostError before they are written.
        """

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook, local has nothing to close
        """Release connections; the transport may be used again afterwards (reconnects)."""
