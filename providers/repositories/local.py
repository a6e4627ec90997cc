"""A repository in a local directory: ``<path>/<series>/<snapshot-id>/<part>.zst``.

The directory is marked ``.drydock-repository`` on first use; files are 0600 and folders
0700 (whole database dumps live here).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import MANIFEST_NAME
from providers.repositories.ownership import (
    ARTIFACTS_DIR,
    REPOSITORY_MARKER,
    WRITING_MARKER,
    check_marker,
    foreign,
    is_own_file,
    is_snapshot_name,
    repository_marker,
)

_BUFFER = 1 << 20
FILE_MODE = 0o600
DIR_MODE = 0o700


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename or unlink in it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalRepository(Repository):
    """Snapshots as directories under `path`; every file and rename is fsynced.

    >>> repo = LocalRepository("primary-vault", Path("/srv/backups"))  # doctest: +SKIP
    """

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = Path(path)
        self._claimed = False
        self._readable = False  # checked for reading (unmarked but empty or adoptable)

    def __repr__(self) -> str:
        return f"LocalRepository({self.name!r}, {str(self.path)!r})"

    def _dir(self, series: str, snapshot_id: str) -> Path:
        return self.path / series / snapshot_id

    def _make_dirs(self, directory: Path) -> None:
        """Create `directory` and missing parents, fsyncing each parent it changed."""
        missing: list[Path] = []
        probe = directory
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        for item in reversed(missing):
            with suppress(FileExistsError):
                item.mkdir(mode=DIR_MODE)
                item.chmod(DIR_MODE)
            fsync_dir(item.parent)

    def _claim(self, *, create: bool) -> None:
        if self._claimed or (self._readable and not create):
            return
        where = str(self.path)
        marker = self.path / REPOSITORY_MARKER
        try:
            data = marker.read_bytes()
        except FileNotFoundError:
            data = None
        except NotADirectoryError:
            if not create:
                return  # nothing to read there (an unreachable site); writing will say so
            raise RepositoryError(f"repository {self.name}: {where} is not a directory; "
                                  "point the repository at a directory") from None
        except OSError as exc:
            raise self._io_error(f"repository {self.name}: {marker}")(exc) from exc
        if data is not None:
            check_marker(data, name=self.name, where=where)
            self._claimed = True
            return
        if self.path.is_dir():
            try:
                self._check_unmarked(where)
            except RepositoryError:
                # A concurrent first use writes the marker before its first snapshot
                # folder, so an entry that appeared since the marker was read is ours.
                data = self._marker_now(marker)
                if data is None:
                    raise
                check_marker(data, name=self.name, where=where)
                self._claimed = True
                return
            self._readable = True
        if create:
            try:
                self._make_dirs(self.path)
                with self._file(self.path, REPOSITORY_MARKER) as handle:
                    handle.write(repository_marker(self.name))
            except OSError as exc:
                raise self._io_error(f"repository {self.name}: {where}")(exc) from exc
            self._claimed = True

    def _marker_now(self, marker: Path) -> bytes | None:
        """The marker's bytes as they are now, or None when there is none."""
        try:
            return marker.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise self._io_error(f"repository {self.name}: {marker}")(exc) from exc

    def _check_unmarked(self, where: str) -> None:
        """Accept an unmarked path only when it is empty or holds nothing but snapshots
        (a repository written before marking existed); raises RepositoryError otherwise."""
        for series in os.scandir(self.path):
            if series.name.startswith(f".{REPOSITORY_MARKER}.tmp-") or \
                    series.name in (REPOSITORY_MARKER, ARTIFACTS_DIR):
                continue  # a concurrent first use writing the marker, or already done
            if not (series.is_dir(follow_symlinks=False) and is_snapshot_name(series.name)):
                raise foreign(self.name, where, series.name)
            for snap in os.scandir(series.path):
                inside = Path(snap.path)
                if not (snap.is_dir(follow_symlinks=False) and is_snapshot_name(snap.name)
                        and ((inside / MANIFEST_NAME).is_file()
                             or (inside / WRITING_MARKER).is_file())):
                    raise foreign(self.name, where, f"{series.name}/{snap.name}")

    @contextmanager
    def _file(self, directory: Path, name: str) -> Iterator[BinaryIO]:
        """Write `name` in `directory` atomically: 0600 temp file, fsync, rename, fsync."""
        temp = directory / f".{name}.tmp-{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        handle = os.fdopen(fd, "wb", buffering=_BUFFER)
        try:
            yield handle  # type: ignore[misc]
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            temp.replace(directory / name)
            fsync_dir(directory)
        except BaseException:
            handle.close()
            temp.unlink(missing_ok=True)
            raise

    @contextmanager
    def _writer(self, series: str, snapshot_id: str, name: str) -> Iterator[BinaryIO]:
        directory = self._dir(series, snapshot_id)
        self._make_dirs(directory)
        with self._file(directory, name) as handle:
            yield handle

    def _reader(self, series: str, snapshot_id: str, name: str) -> BinaryIO:
        return (self._dir(series, snapshot_id) / name).open("rb", buffering=_BUFFER)

    def _load_manifest(self, series: str, snapshot_id: str) -> bytes | None:
        try:
            return (self._dir(series, snapshot_id) / MANIFEST_NAME).read_bytes()
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None

    def _save_manifest(self, series: str, snapshot_id: str, data: bytes) -> None:
        with self._writer(series, snapshot_id, MANIFEST_NAME) as handle:
            handle.write(data)

    def _remove_manifest(self, series: str, snapshot_id: str) -> None:
        directory = self._dir(series, snapshot_id)
        try:
            (directory / MANIFEST_NAME).unlink()
        except FileNotFoundError:
            return
        fsync_dir(directory)

    def _remove_object(self, series: str, snapshot_id: str, name: str) -> None:
        directory = self._dir(series, snapshot_id)
        try:
            (directory / name).unlink()
        except FileNotFoundError:
            return
        fsync_dir(directory)

    def _remove_data(self, series: str, snapshot_id: str) -> None:
        """Remove the files drydock writes in a snapshot folder, then the folder if that
        emptied it; anything else somebody put inside stays (and so does the folder)."""
        directory = self._dir(series, snapshot_id)
        if not directory.is_dir() or directory.is_symlink():
            return
        for entry in os.scandir(directory):
            if entry.name != WRITING_MARKER and is_own_file(entry.name) \
                    and not entry.is_dir(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
        (directory / WRITING_MARKER).unlink(missing_ok=True)  # last: it says "drydock's"
        with suppress(OSError):
            directory.rmdir()
        fsync_dir(directory.parent)

    def _series_dirs(self, series: str | None) -> Iterator[Path]:
        if series is not None:
            if (self.path / series).is_dir():
                yield self.path / series
            return
        if not self.path.is_dir():
            return
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False) and is_snapshot_name(entry.name):
                yield Path(entry.path)

    def _snapshot_dirs(self, series: str | None) -> Iterator[Path]:
        for series_dir in self._series_dirs(series):
            for entry in sorted(os.scandir(series_dir), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and is_snapshot_name(entry.name):
                    yield Path(entry.path)

    def _manifest_keys(self, series: str | None) -> Iterator[tuple[str, str]]:
        for directory in self._snapshot_dirs(series):
            if (directory / MANIFEST_NAME).is_file():
                yield directory.parent.name, directory.name

    def _unfinished(self, series: str | None) -> Iterator[tuple[str, str, datetime]]:
        for directory in self._snapshot_dirs(series):
            if (directory / MANIFEST_NAME).exists():
                continue
            if not (directory / WRITING_MARKER).is_file():
                continue  # not begun by drydock: somebody else's, never touched
            newest = directory.stat().st_mtime
            for entry in os.scandir(directory):
                newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
            yield directory.parent.name, directory.name, datetime.fromtimestamp(newest, UTC)

    def _inventory(self) -> Iterator[tuple[str, str, str, int]]:
        for directory in self._snapshot_dirs(None):
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                size = entry.stat(follow_symlinks=False).st_size
                yield directory.parent.name, directory.name, entry.name, size
