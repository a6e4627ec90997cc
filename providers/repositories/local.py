"""A repository in a local directory: ``<path>/<series>/<snapshot-id>/<part>.zst``."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from providers.repositories.base import Repository
from providers.repositories.manifest import MANIFEST_NAME, ManifestError, check_name

_BUFFER = 1 << 20


def fsync_dir(path: Path) -> None:
    """fsync a directory so a rename or unlink in it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_name(value: str) -> bool:
    if value.startswith("."):
        return False
    try:
        check_name(value, what="entry")
    except ManifestError:
        return False
    return True


class LocalRepository(Repository):
    """Snapshots as directories under `path`; every file and rename is fsynced.

    >>> repo = LocalRepository("primary-vault", Path("/srv/backups"))  # doctest: +SKIP
    """

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = Path(path)

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
                item.mkdir()
            fsync_dir(item.parent)

    @contextmanager
    def _writer(self, series: str, snapshot_id: str, name: str) -> Iterator[BinaryIO]:
        directory = self._dir(series, snapshot_id)
        self._make_dirs(directory)
        temp = directory / f".{name}.tmp-{secrets.token_hex(4)}"
        handle = temp.open("xb", buffering=_BUFFER)
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

    def _remove_data(self, series: str, snapshot_id: str) -> None:
        directory = self._dir(series, snapshot_id)
        if not directory.exists():
            return
        shutil.rmtree(directory)
        fsync_dir(directory.parent)

    def _series_dirs(self, series: str | None) -> Iterator[Path]:
        if series is not None:
            if (self.path / series).is_dir():
                yield self.path / series
            return
        if not self.path.is_dir():
            return
        for entry in sorted(os.scandir(self.path), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False) and _is_name(entry.name):
                yield Path(entry.path)

    def _snapshot_dirs(self, series: str | None) -> Iterator[Path]:
        for series_dir in self._series_dirs(series):
            for entry in sorted(os.scandir(series_dir), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and _is_name(entry.name):
                    yield Path(entry.path)

    def _manifest_keys(self, series: str | None) -> Iterator[tuple[str, str]]:
        for directory in self._snapshot_dirs(series):
            if (directory / MANIFEST_NAME).is_file():
                yield directory.parent.name, directory.name

    def _unfinished(self) -> Iterator[tuple[str, str, datetime]]:
        for directory in self._snapshot_dirs(None):
            if (directory / MANIFEST_NAME).exists():
                continue
            newest = directory.stat().st_mtime
            for entry in os.scandir(directory):
                newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
            yield directory.parent.name, directory.name, datetime.fromtimestamp(newest, UTC)
