"""The repository contract: snapshots of parts, streamed in and out, manifest written last.

A backend (local directory, S3 later) implements a handful of storage primitives; this
module holds everything else (compression, hashing, manifests, verification, copying), so
every backend behaves the same and one contract test suite covers them all.
"""

from __future__ import annotations

import sys
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime, timedelta
from typing import BinaryIO

from providers.repositories.errors import IntegrityError, RepositoryError, SnapshotNotFound
from providers.repositories.manifest import (
    Manifest,
    ManifestError,
    PartInfo,
    SnapshotFields,
    build_manifest,
    check_name,
    stored_name,
)
from providers.repositories.models import PartCheck, PartSource, VerifyResult
from providers.repositories.store import SnapshotStore
from providers.repositories.streams import (
    MeteredWriter,
    copy_stream,
    hash_stream,
    open_verified,
)

__all__ = ["IntegrityError", "PartCheck", "PartSource", "Repository", "RepositoryError",
           "SnapshotNotFound", "SnapshotStore", "VerifyResult"]

ZSTD_LEVEL = 3


class Repository(SnapshotStore):
    """A store of snapshots made of zstd-compressed byte parts plus ``manifest.json``."""

    compression_threads = 0

    # ----- storage primitives a backend implements -------------------------------------

    @abstractmethod
    def _writer(self, series: str, snapshot_id: str, name: str) -> AbstractContextManager[BinaryIO]:
        """Open a stored object for writing; committed on clean exit, discarded on error."""

    @abstractmethod
    def _reader(self, series: str, snapshot_id: str, name: str) -> BinaryIO:
        """Open a stored object for reading; raises FileNotFoundError when missing."""

    @abstractmethod
    def _load_manifest(self, series: str, snapshot_id: str) -> bytes | None:
        """Return the manifest bytes, or None when the snapshot has no manifest."""

    @abstractmethod
    def _save_manifest(self, series: str, snapshot_id: str, data: bytes) -> None:
        """Write the manifest atomically (all or nothing) and durably."""

    @abstractmethod
    def _remove_manifest(self, series: str, snapshot_id: str) -> None:
        """Remove the manifest durably (no error when absent)."""

    @abstractmethod
    def _remove_data(self, series: str, snapshot_id: str) -> None:
        """Remove everything left of a snapshot (no error when absent)."""

    @abstractmethod
    def _manifest_keys(self, series: str | None) -> Iterator[tuple[str, str]]:
        """Yield (series, snapshot id) of every snapshot that has a manifest."""

    @abstractmethod
    def _unfinished(self) -> Iterator[tuple[str, str, datetime]]:
        """Yield (series, id, last modified) of snapshot locations without a manifest."""

    # ----- messages ---------------------------------------------------------------------

    def _where(self, series: str, snapshot_id: str, part: str | None = None) -> str:
        text = f"repository {self.name}: snapshot {series}/{snapshot_id}"
        return f"{text}: part {part}" if part else text

    def _io_error(self, where: str) -> Callable[[OSError], RepositoryError]:
        def convert(exc: OSError) -> RepositoryError:
            return RepositoryError(f"{where}: {exc.strerror or exc}; check the repository")

        return convert

    # ----- writing ----------------------------------------------------------------------

    def put(
        self,
        series: str,
        snapshot_id: str,
        parts: Iterable[PartSource],
        fields: SnapshotFields,
    ) -> Manifest:
        """Store a new snapshot: stream every part through zstd, then write the manifest.

        Takes the series, a new id (see ``new_snapshot_id``), the parts and the manifest
        fields. Returns the written Manifest. Raises RepositoryError (bad names, snapshot
        already there, storage failure) or whatever a part's writer raises; on any
        failure no manifest is written, so the snapshot never becomes visible.
        """
        self._check_names(series, snapshot_id)
        if self._manifest_or_none(series, snapshot_id) is not None:
            raise RepositoryError(f"{self._where(series, snapshot_id)}: already exists")
        infos: list[PartInfo] = []
        try:
            for part in parts:
                self._check_part_name(series, snapshot_id, part.name, infos)
                infos.append(self._store_part(series, snapshot_id, part))
            manifest = build_manifest(series, snapshot_id, fields, infos)
            self._guarded(self._where(series, snapshot_id), self._save_manifest, series,
                          snapshot_id, manifest.to_json())
        except BaseException:
            self._discard(series, snapshot_id)
            raise
        return manifest

    def _check_names(self, series: str, snapshot_id: str) -> None:
        try:
            check_name(series, what="series")
            check_name(snapshot_id, what="snapshot id")
        except ManifestError as exc:
            raise RepositoryError(f"repository {self.name}: {exc}") from None

    def _check_part_name(
        self, series: str, snapshot_id: str, name: str, done: list[PartInfo]
    ) -> None:
        try:
            check_name(name, what="part")
        except ManifestError as exc:
            raise RepositoryError(f"{self._where(series, snapshot_id)}: {exc}") from None
        if any(info.name == name for info in done):
            raise RepositoryError(f"{self._where(series, snapshot_id, name)}: given twice")

    @contextmanager
    def _open_writer(self, series: str, snapshot_id: str, part: str) -> Iterator[MeteredWriter]:
        """Backend writer wrapped so storage OSErrors become RepositoryError; hashes."""
        to_error = self._io_error(self._where(series, snapshot_id, part))
        try:
            manager = self._writer(series, snapshot_id, stored_name(part))
            sink = manager.__enter__()
        except OSError as exc:
            raise to_error(exc) from exc
        try:
            yield MeteredWriter(sink, errors=to_error)
        except BaseException:
            manager.__exit__(*sys.exc_info())
            raise
        try:
            manager.__exit__(None, None, None)
        except OSError as exc:
            raise to_error(exc) from exc

    def _store_part(self, series: str, snapshot_id: str, part: PartSource) -> PartInfo:
        import zstandard

        with self._open_writer(series, snapshot_id, part.name) as stored:
            cctx = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, write_checksum=True, threads=self.compression_threads
            )
            with cctx.stream_writer(stored, closefd=False) as compressor:
                raw = MeteredWriter(compressor, hashing=False)  # type: ignore[arg-type]
                part.write(raw)  # type: ignore[arg-type]
        return PartInfo(
            name=part.name,
            kind=part.kind,
            size=stored.count,
            raw_size=raw.count,
            sha256=stored.hexdigest(),
        )

    def _guarded(self, where: str, func: Callable[..., object], *args: object) -> object:
        try:
            return func(*args)
        except OSError as exc:
            raise self._io_error(where)(exc) from exc

    def _discard(self, series: str, snapshot_id: str) -> None:
        with suppress(Exception):
            self._remove_manifest(series, snapshot_id)
            self._remove_data(series, snapshot_id)

    # ----- reading ----------------------------------------------------------------------

    def _manifest_or_none(self, series: str, snapshot_id: str) -> Manifest | None:
        where = self._where(series, snapshot_id)
        data = self._guarded(where, self._load_manifest, series, snapshot_id)
        if data is None:
            return None
        try:
            manifest = Manifest.from_json(data, where=where)  # type: ignore[arg-type]
        except ManifestError as exc:
            raise RepositoryError(str(exc)) from None
        if (manifest.series, manifest.id) != (series, snapshot_id):
            raise RepositoryError(
                f"{where}: manifest names {manifest.series}/{manifest.id}; it was moved by "
                "hand, put it back where it names"
            )
        return manifest

    def list(self, series: str | None = None) -> list[Manifest]:
        """Return manifests of complete snapshots (only `series` if given), oldest first."""
        if series is not None:
            self._check_names(series, "x")
        try:
            keys = list(self._manifest_keys(series))
        except OSError as exc:
            raise self._io_error(f"repository {self.name}")(exc) from exc
        found: list[Manifest] = []
        for key_series, key_id in keys:
            manifest = self._manifest_or_none(key_series, key_id)
            if manifest is not None:
                found.append(manifest)
        found.sort(key=lambda m: (m.created, m.id))
        return found

    def get_manifest(self, series: str, snapshot_id: str) -> Manifest:
        """Return one snapshot's manifest; raises SnapshotNotFound when it has none."""
        self._check_names(series, snapshot_id)
        manifest = self._manifest_or_none(series, snapshot_id)
        if manifest is None:
            raise SnapshotNotFound(f"{self._where(series, snapshot_id)}: not found")
        return manifest

    def _part(self, manifest: Manifest, part: str) -> PartInfo:
        try:
            return manifest.part(part)
        except KeyError:
            names = ", ".join(p.name for p in manifest.parts) or "none"
            raise SnapshotNotFound(
                f"{self._where(manifest.series, manifest.id, part)}: no such part "
                f"(parts: {names})"
            ) from None

    def open_stored(self, series: str, snapshot_id: str, part: str) -> BinaryIO:
        """Open a part's stored (compressed) bytes as they are, for copying elsewhere.

        Raises SnapshotNotFound, or IntegrityError when the stored object is missing.
        """
        info = self._part(self.get_manifest(series, snapshot_id), part)
        return self._open_info(series, snapshot_id, info)

    def _open_info(self, series: str, snapshot_id: str, info: PartInfo) -> BinaryIO:
        where = self._where(series, snapshot_id, info.name)
        try:
            return self._reader(series, snapshot_id, info.stored_name)
        except FileNotFoundError:
            raise IntegrityError(f"{where}: stored data is missing") from None
        except OSError as exc:
            raise self._io_error(where)(exc) from exc

    def open_part(self, series: str, snapshot_id: str, part: str) -> BinaryIO:
        """Open a part decompressed; the stream raises IntegrityError at its end on mismatch.

        Read it to the end (an empty read) to have the check done. Raises
        SnapshotNotFound when the snapshot or part does not exist.
        """
        info = self._part(self.get_manifest(series, snapshot_id), part)
        stored = self._open_info(series, snapshot_id, info)
        return open_verified(
            stored,
            size=info.size,
            sha256=info.sha256,
            describe=lambda: self._where(series, snapshot_id, info.name),
        )

    # ----- checking ---------------------------------------------------------------------

    def _check_info(self, series: str, snapshot_id: str, info: PartInfo) -> PartCheck:
        base = {"name": info.name, "expected_sha256": info.sha256, "expected_size": info.size}
        try:
            stored = self._open_info(series, snapshot_id, info)
        except IntegrityError:
            return PartCheck(**base, ok=False, actual_sha256=None, actual_size=None,
                             problem="stored data is missing")
        try:
            with stored:
                size, digest = hash_stream(stored)
        except OSError as exc:
            raise self._io_error(self._where(series, snapshot_id, info.name))(exc) from exc
        ok = size == info.size and digest == info.sha256
        return PartCheck(**base, ok=ok, actual_sha256=digest, actual_size=size,
                         problem=None if ok else "sha256 or size differs from the manifest")

    def check_part(self, series: str, snapshot_id: str, part: str) -> PartCheck:
        """Re-hash one stored part; returns its PartCheck (raises SnapshotNotFound)."""
        info = self._part(self.get_manifest(series, snapshot_id), part)
        return self._check_info(series, snapshot_id, info)

    def ensure_intact(self, series: str, snapshot_id: str, part: str) -> PartInfo:
        """Re-hash one part fully; returns its PartInfo or raises IntegrityError."""
        info = self._part(self.get_manifest(series, snapshot_id), part)
        check = self._check_info(series, snapshot_id, info)
        if not check.ok:
            raise IntegrityError(f"{self._where(series, snapshot_id, part)}: {check.problem}; "
                                 "restore from another copy")
        return info

    def verify(self, series: str, snapshot_id: str) -> VerifyResult:
        """Re-hash every part of a snapshot; returns a VerifyResult (raises SnapshotNotFound)."""
        manifest = self.get_manifest(series, snapshot_id)
        checks = tuple(self._check_info(series, snapshot_id, p) for p in manifest.parts)
        return VerifyResult(repository=self.name, series=series, id=snapshot_id, parts=checks)

    # ----- removing ---------------------------------------------------------------------

    def delete(self, series: str, snapshot_id: str, *, missing_ok: bool = False) -> None:
        """Delete a snapshot: the manifest goes first, so a half-deleted one is invisible.

        Raises SnapshotNotFound when there is no manifest, unless `missing_ok` (leftover
        data of an invisible snapshot is removed either way).
        """
        self._check_names(series, snapshot_id)
        where = self._where(series, snapshot_id)
        present = self._guarded(where, self._load_manifest, series, snapshot_id) is not None
        if not present and not missing_ok:
            raise SnapshotNotFound(f"{where}: not found")
        self._guarded(where, self._remove_manifest, series, snapshot_id)
        self._guarded(where, self._remove_data, series, snapshot_id)

    def cleanup_incomplete(self, *, now: datetime, grace: timedelta) -> list[str]:
        """Remove snapshot leftovers without a manifest untouched for at least `grace`.

        Takes the current time and the grace period (longer than any backup takes).
        Returns the removed ``series/id`` names.
        """
        removed: list[str] = []
        where = f"repository {self.name}"
        try:
            leftovers = list(self._unfinished())
        except OSError as exc:
            raise self._io_error(where)(exc) from exc
        for series, snapshot_id, modified in leftovers:
            if now - modified < grace:
                continue
            if self._guarded(where, self._load_manifest, series, snapshot_id) is not None:
                continue
            self._guarded(self._where(series, snapshot_id), self._remove_data, series,
                          snapshot_id)
            removed.append(f"{series}/{snapshot_id}")
        return removed

    # ----- copying ----------------------------------------------------------------------

    def copy_from(self, other: Repository, series: str, snapshot_id: str) -> Manifest:
        """Copy a snapshot from `other`, stored bytes unchanged, verified here, manifest last.

        Returns the manifest. Already present with the same parts: returns it untouched.
        Raises SnapshotNotFound (not in `other`), IntegrityError (bytes differ from the
        manifest at the source or here) or RepositoryError; a failed copy stays invisible.
        """
        source = other.get_manifest(series, snapshot_id)
        present = self._manifest_or_none(series, snapshot_id)
        if present is not None:
            if present.parts == source.parts:
                return present
            raise RepositoryError(
                f"{self._where(series, snapshot_id)}: exists with different parts than in "
                f"repository {other.name}; delete one of them first"
            )
        try:
            for info in source.parts:
                self._copy_part(other, source, info)
            for info in source.parts:
                check = self._check_info(series, snapshot_id, info)
                if not check.ok:
                    raise IntegrityError(
                        f"{self._where(series, snapshot_id, info.name)}: copy from "
                        f"repository {other.name} does not verify ({check.problem})"
                    )
            self._guarded(self._where(series, snapshot_id), self._save_manifest, series,
                          snapshot_id, source.to_json())
        except BaseException:
            self._discard(series, snapshot_id)
            raise
        return source

    def _copy_part(self, other: Repository, manifest: Manifest, info: PartInfo) -> None:
        stored = other._open_info(manifest.series, manifest.id, info)
        with stored, self._open_writer(manifest.series, manifest.id, info.name) as metered:
            copy_stream(stored, metered)  # type: ignore[arg-type]
            if metered.count != info.size or metered.hexdigest() != info.sha256:
                raise IntegrityError(
                    f"{other._where(manifest.series, manifest.id, info.name)}: stored "
                    "bytes differ from its manifest; not copied"
                )
