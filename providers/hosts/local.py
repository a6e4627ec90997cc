"""The local transport: the host is this machine; commands run without a shell."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import stat as stat_mod
import subprocess  # noqa: TID251
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from providers.hosts.base import CommandResult, DirEntry, FileKind, FileStat, HostError, Transport
from providers.hosts.tarsafe import safe_extract

CHUNK = 1 << 20


@contextmanager
def _atomic_stream(path: Path, mode: int) -> Iterator[BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _kind(mode: int) -> FileKind:
    if stat_mod.S_ISLNK(mode):
        return "link"
    if stat_mod.S_ISDIR(mode):
        return "dir"
    if stat_mod.S_ISREG(mode):
        return "file"
    return "other"


def _stat(st: os.stat_result) -> FileStat:
    return FileStat(kind=_kind(st.st_mode), size=st.st_size, mtime_ns=st.st_mtime_ns,
                    inode=st.st_ino, mode=stat_mod.S_IMODE(st.st_mode))


class LocalTransport(Transport):
    """Runs commands and touches files on the local machine."""

    def __init__(self, host: str = "local") -> None:
        self.host = host

    def _err(self, path: PurePosixPath, exc: OSError) -> HostError:
        return HostError(f"{self.host}: {path}: {exc.strerror or exc}")

    def stat(self, path: PurePosixPath) -> FileStat | None:
        """`lstat`, or None when absent."""
        try:
            return _stat(os.lstat(path))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None

    def list_dir(self, path: PurePosixPath) -> list[DirEntry]:
        """Sorted entries; [] when absent."""
        try:
            with os.scandir(path) as it:
                entries = [DirEntry(e.name, _stat(e.stat(follow_symlinks=False))) for e in it]
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise self._err(path, exc) from exc
        return sorted(entries, key=lambda e: e.name)

    def walk(self, path: PurePosixPath) -> Iterator[tuple[PurePosixPath, FileStat]]:
        """Parents first; links reported, not followed."""
        stack = [PurePosixPath()]
        while stack:
            rel = stack.pop()
            entries = self.list_dir(path / rel if rel.parts else path)
            for entry in reversed(entries):
                child = rel / entry.name
                if entry.stat.kind == "dir":
                    stack.append(child)
            for entry in entries:
                yield rel / entry.name, entry.stat

    def realpath(self, path: PurePosixPath) -> PurePosixPath:
        """Symlinks resolved: by the kernel for a path that exists (open with O_PATH, read
        the link /proc keeps for it: three system calls, where os.path.realpath makes one
        per component), by os.path.realpath otherwise (the missing tail kept)."""
        return PurePosixPath(_kernel_realpath(str(path)) or os.path.realpath(path))

    def sha256(self, path: PurePosixPath) -> str:
        """Hash in chunks."""
        digest = hashlib.sha256()
        try:
            with Path(path).open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise self._err(path, exc) from exc
        return "sha256:" + digest.hexdigest()

    def free_bytes(self, path: PurePosixPath) -> int:
        """statvfs of `path` or its nearest existing parent."""
        probe = PurePosixPath(path)
        while True:
            try:
                st = os.statvfs(probe)
            except (FileNotFoundError, NotADirectoryError) as exc:
                if probe.parent == probe:
                    raise self._err(path, exc) from exc
                probe = probe.parent
                continue
            except OSError as exc:
                raise self._err(path, exc) from exc
            return st.f_bavail * st.f_frsize

    @contextmanager
    def _open_read(self, path: PurePosixPath) -> Iterator[BinaryIO]:
        try:
            handle = Path(path).open("rb")
        except OSError as exc:
            raise self._err(path, exc) from exc
        with handle:
            yield handle

    def open_read(self, path: PurePosixPath) -> AbstractContextManager[BinaryIO]:
        """A file opened for reading."""
        return self._open_read(path)

    def read_bytes(self, path: PurePosixPath, *, limit: int = 1 << 24) -> bytes:
        """A small file whole (straight system calls: a refresh reads thousands of them);
        raises HostError when it is larger than `limit` bytes."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise self._err(PurePosixPath(path), exc) from exc
        try:
            chunks, size = [], 0
            while size <= limit:
                chunk = os.read(fd, limit + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            raise self._err(PurePosixPath(path), exc) from exc
        finally:
            os.close(fd)
        if size > limit:
            raise HostError(f"{self.host}: {path} is larger than {limit} bytes")
        return b"".join(chunks)

    def open_write(self, path: PurePosixPath, *, mode: int = 0o644
                   ) -> AbstractContextManager[BinaryIO]:
        """Atomic write stream."""
        return _atomic_stream(Path(path), mode)

    def mkdir(self, path: PurePosixPath, *, mode: int = 0o755, parents: bool = True) -> None:
        """mkdir -p."""
        try:
            Path(path).mkdir(mode=mode, parents=parents, exist_ok=True)
        except OSError as exc:
            raise self._err(path, exc) from exc

    def rename(self, src: PurePosixPath, dst: PurePosixPath) -> None:
        """os.replace."""
        try:
            Path(src).replace(dst)
        except OSError as exc:
            raise self._err(src, exc) from exc

    def remove(self, path: PurePosixPath) -> bool:
        """Unlink a file/link or rmdir an empty folder."""
        st = self.stat(path)
        if st is None:
            return False
        try:
            if st.kind == "dir":
                Path(path).rmdir()
            else:
                Path(path).unlink()
        except OSError as exc:
            raise self._err(path, exc) from exc
        return True

    def remove_tree(self, path: PurePosixPath) -> bool:
        """rm -rf without following links."""
        st = self.stat(path)
        if st is None:
            return False
        try:
            if st.kind == "dir":
                shutil.rmtree(path)
            else:
                Path(path).unlink()
        except OSError as exc:
            raise self._err(path, exc) from exc
        return True

    def copy_tree(self, src: PurePosixPath, dst: PurePosixPath, *, link: bool = False) -> None:
        """cp -a (copy-on-write clones where the file system has them); hard links for
        regular files when `link` (falls back to clones or copies)."""
        st = self.stat(src)
        if st is None:
            raise HostError(f"{self.host}: {src}: no such file or folder")
        try:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            if st.kind == "dir":
                shutil.copytree(src, dst, symlinks=True,
                                copy_function=_link_or_copy if link else _clone_or_copy)
            elif st.kind == "link":
                Path(dst).symlink_to(Path(src).readlink())
            elif link:
                _link_or_copy(str(src), str(dst))
            else:
                _clone_or_copy(str(src), str(dst))
        except OSError as exc:
            raise self._err(src, exc) from exc

    def chmod(self, path: PurePosixPath, mode: int) -> None:
        """chmod."""
        try:
            Path(path).chmod(mode)
        except OSError as exc:
            raise self._err(path, exc) from exc

    def run(self, argv: Sequence[str], *, cwd: PurePosixPath | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600,
            stdin: bytes | None = None) -> CommandResult:
        """Run `argv` with no shell; a missing program gives returncode 127."""
        full_env = {**os.environ, **(env or {})}
        try:
            proc = subprocess.run(
                list(argv), cwd=cwd, env=full_env, capture_output=True,
                timeout=timeout, check=False,
                input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            )
        except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
            return CommandResult(tuple(argv), 127, "", str(exc))
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode("utf-8", "replace") if exc.stdout else ""
            return CommandResult(tuple(argv), 124, out, f"timed out after {timeout:.0f}s")
        return CommandResult(tuple(argv), proc.returncode,
                             proc.stdout.decode("utf-8", "replace"),
                             proc.stderr.decode("utf-8", "replace"))

    @contextmanager
    def _tar_out(self, root: PurePosixPath, members: Sequence[str]) -> Iterator[BinaryIO]:
        with tempfile.TemporaryFile() as spool:
            with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for member in members or [e.name for e in self.list_dir(root)]:
                    full = Path(root) / member
                    if full.is_symlink() or full.exists():
                        tar.add(full, arcname=member, recursive=True)
            spool.seek(0)
            yield spool  # type: ignore[misc]

    def tar_out(self, root: PurePosixPath, members: Sequence[str] = ()
                ) -> AbstractContextManager[BinaryIO]:
        """A tar of members below root (spooled to a temp file, read as a stream)."""
        return self._tar_out(root, members)

    def tar_in(self, root: PurePosixPath, stream: BinaryIO) -> None:
        """Safe extraction below root."""
        Path(root).mkdir(parents=True, exist_ok=True)
        safe_extract(stream, Path(root), host=self.host)


_O_PATH = getattr(os, "O_PATH", 0)


def _kernel_realpath(path: str) -> str | None:
    if not _O_PATH:
        return None
    try:
        fd = os.open(path, _O_PATH | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        found = str(Path(f"/proc/self/fd/{fd}").readlink())
    except OSError:
        return None
    finally:
        os.close(fd)
    return found if found.startswith("/") and not found.endswith(" (deleted)") else None


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        _clone_or_copy(src, dst)
    return dst


_FICLONE = 0x40049409  # ioctl(dst, FICLONE, src): share the extents (btrfs, XFS, ...)


_NO_CLONES: set[int] = set()  # devices whose file system refused a clone


def _clone_or_copy(src: str, dst: str) -> str:
    """`cp -a --reflink=auto` of one file: a copy-on-write clone where the file system
    has them (the copy costs no bytes and later writes to either side stay apart), else
    a byte copy; mode and times kept either way. A file system that refuses one clone is
    not asked again."""
    dev = Path(src).stat().st_dev
    if dev in _NO_CLONES:
        return shutil.copy2(src, dst)
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.ENOSYS):
            _NO_CLONES.add(dev)
        return shutil.copy2(src, dst)
    shutil.copystat(src, dst)
    return dst
