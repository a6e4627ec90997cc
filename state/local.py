"""The local state backend: a directory blob store, and its wiring into a StateManager."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from safefs.atomicfile import fsync_dir, make_private_dirs, write_atomic
from safefs.pathsafety import UnsafePathError, contained
from state.blobstore import Blob, BlobStore
from state.errors import StateBackendError, StateConflictError
from state.lock import Clock, LocalLock
from state.manager import StateManager


def _version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _short(version: str | None) -> str:
    return "none" if version is None else version[:12]


class LocalBlobStore(BlobStore):
    """Objects are files under `root`; a key's '/' separates directories.

    The version token is the sha256 of the content. Compare-and-swap is made atomic
    between processes by a short ``flock`` on `root` itself around compare + rename, so it
    is correct even without the state lock. Names starting with '.' are reserved (temp
    files) and refused as keys.
    """

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        try:
            relative = PurePosixPath(key)
            if any(part.startswith(".") for part in relative.parts):
                raise UnsafePathError(f"state key {key!r}: names starting with '.' are reserved")
            return contained(self._root, key, what="state key")
        except UnsafePathError as err:
            raise StateBackendError(f"{err}; use a plain relative name") from err

    def location(self, key: str) -> str:
        """Return the file path of `key` as the operator configured it."""
        return str(self._root / key)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        try:
            make_private_dirs(self._root)
            fd = os.open(self._root, os.O_RDONLY)
        except OSError as err:
            raise StateBackendError(
                f"cannot use state directory {self._root} ({err.strerror}); "
                "check that it exists and is writable"
            ) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, key: str, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            raise StateBackendError(
                f"cannot read {self.location(key)} ({err.strerror}); check its permissions"
            ) from err

    def get(self, key: str) -> Blob | None:
        """Return the file's bytes and version, or None when it does not exist."""
        data = self._read(key, self._path(key))
        return None if data is None else Blob(data=data, version=_version_of(data))

    def _check(self, key: str, path: Path, expect_version: str | None) -> None:
        data = self._read(key, path)
        current = None if data is None else _version_of(data)
        if current == expect_version:
            return
        if current is None:
            raise StateConflictError(
                f"{self.location(key)} no longer exists (expected version "
                f"{_short(expect_version)}); read it again and retry"
            )
        if expect_version is None:
            raise StateConflictError(f"{self.location(key)} already exists; read it and retry")
        raise StateConflictError(
            f"{self.location(key)} changed since it was read (version {_short(current)}, "
            f"expected {_short(expect_version)}); read it again and retry"
        )

    def put(self, key: str, data: bytes, *, expect_version: str | None) -> str:
        """Atomically replace the file if its version is `expect_version` (see BlobStore)."""
        path = self._path(key)
        with self._exclusive():
            self._check(key, path, expect_version)
            try:
                make_private_dirs(path.parent)
                write_atomic(path, data)
            except OSError as err:
                raise StateBackendError(
                    f"cannot write {self.location(key)} ({err.strerror}); nothing was changed"
                ) from err
        return _version_of(data)

    def delete(self, key: str, *, expect_version: str | None = None) -> None:
        """Remove the file (see BlobStore.delete)."""
        path = self._path(key)
        with self._exclusive():
            if expect_version is not None:
                self._check(key, path, expect_version)
            try:
                path.unlink(missing_ok=True)
                fsync_dir(path.parent)
            except FileNotFoundError:
                return
            except OSError as err:
                raise StateBackendError(
                    f"cannot delete {self.location(key)} ({err.strerror})"
                ) from err

    def list(self, prefix: str) -> list[str]:
        """Return the keys of files under `root` whose key starts with `prefix`, sorted."""
        base_key = prefix.rpartition("/")[0]
        base = self._root / base_key if base_key else self._root
        if not base.is_dir():
            return []
        keys = []
        for directory, subdirs, files in os.walk(base):
            rel_dir = Path(directory).relative_to(self._root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            subdirs[:] = [
                d
                for d in subdirs
                if not d.startswith(".")
                and ((rel_dir + d + "/").startswith(prefix) or prefix.startswith(rel_dir + d + "/"))
            ]
            keys.extend(
                rel_dir + name
                for name in files
                if not name.startswith(".") and (rel_dir + name).startswith(prefix)
            )
        return sorted(keys)


def history_dir(state_path: Path) -> Path:
    """Return the directory of kept versions of the local state at `state_path`."""
    return state_path.with_name(state_path.name + ".history")


def journal_path(state_path: Path) -> Path:
    """Return the crash-safety journal kept beside the local state at `state_path`."""
    return state_path.with_name(state_path.name + ".journal")


def open_local_state(
    path: Path,
    environment: str,
    *,
    keep_versions: int = 20,
    clock: Clock | None = None,
) -> StateManager:
    """Return the manager of the state file `path` (its directory is created on first write).

    History goes to ``<path>.history/``, the lock is ``<path>.lock``. `clock` stamps lock
    records (default: local time with offset).
    """
    return StateManager(
        LocalBlobStore(path.parent),
        LocalLock(path, clock=clock),
        key=path.name,
        environment=environment,
        keep_versions=keep_versions,
    )
