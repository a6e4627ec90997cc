"""The repository contract: snapshots of parts, streamed in and out, manifest written last.

A backend (local directory, S3 later) implements a handful of storage primitives; this
module holds everything else (compression, hashing, manifests, verification, copying), so
every backend behaves the same and one contract test suite covers them all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

from engine.killpoints import reached_inside
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
from providers.repositories.ownership import WRITING_MARKER, Leftover, writing_marker
from providers.repositories.primitives import StoragePrimitives
from providers.repositories.store import SnapshotStore
from providers.repositories.streams import MeteredWriter, hash_stream, open_verified

if TYPE_CHECKING:
    from providers.repositories.authenticity import KeySource

__all__ = ["IntegrityError", "PartCheck", "PartSource", "Repository", "RepositoryError",
           "SnapshotNotFound", "SnapshotStore", "VerifyResult"]

ZSTD_LEVEL = 3


class Repository(SnapshotStore, StoragePrimitives):
    """A store of snapshots made of zstd-compressed byte parts plus ``manifest.json``."""

    compression_threads = 0
    mac_key: KeySource | None = None
    """Set (from the spec's ``hmac_key``) to sign manifests and refuse unsigned ones."""

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
        self._claim(create=True)
        if self._manifest_or_none(series, snapshot_id) is not None:
            raise RepositoryError(f"{self._where(series, snapshot_id)}: already exists")
        infos: list[PartInfo] = []
        try:
            self._begin(series, snapshot_id)
            for part in parts:
                self._check_part_name(series, snapshot_id, part.name, infos)
                infos.append(self._store_part(series, snapshot_id, part))
            reached_inside("parts-written")
            manifest = self.sign(build_manifest(series, snapshot_id, fields, infos))
            self._guarded(self._where(series, snapshot_id), self._save_manifest, series,
                          snapshot_id, manifest.to_json())
        except BaseException:
            self._discard(series, snapshot_id)
            raise
        self._finish(series, snapshot_id)
        return manifest

    def _begin(self, series: str, snapshot_id: str) -> None:
        """Mark a new snapshot folder as drydock's write in progress, before any part."""
        with self._open_writer(series, snapshot_id, WRITING_MARKER, raw=True) as sink:
            sink.write(writing_marker(self.name, series, snapshot_id))

    def _finish(self, series: str, snapshot_id: str) -> None:
        """Drop the in-progress marker once the manifest is written (best effort: a marker
        left beside a manifest is harmless, the manifest is what counts)."""
        with suppress(OSError, RepositoryError):
            self._remove_object(series, snapshot_id, WRITING_MARKER)

    # ----- authenticity -----------------------------------------------------------------

    def sign(self, manifest: Manifest) -> Manifest:
        """The manifest as this repository writes it: with a MAC when it has a key."""
        if self.mac_key is None:
            return manifest.model_copy(update={"mac": None})
        from providers.repositories.authenticity import signed

        return signed(manifest, self.mac_key())

    def authenticate(self, manifest: Manifest) -> Manifest:
        """Return `manifest` when this repository has no key or its MAC verifies.

        Raises IntegrityError naming the snapshot otherwise.
        """
        if self.mac_key is not None:
            from providers.repositories.authenticity import check_mac

            check_mac(manifest, self.mac_key(), where=self._where(manifest.series, manifest.id))
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
    def _open_writer(self, series: str, snapshot_id: str, part: str, *, raw: bool = False
                     ) -> Iterator[MeteredWriter]:
        """Backend writer wrapped so storage OSErrors become RepositoryError; hashes.

        `part` names a part (stored as ``<part>.zst``), or with `raw` an object as is.
        """
        to_error = self._io_error(self._where(series, snapshot_id, part))
        try:
            manager = self._writer(series, snapshot_id, part if raw else stored_name(part))
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
        self._claim(create=False)
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
        self._claim(create=False)
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
        info = self._part(self._authentic(series, snapshot_id), part)
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
        info = self._part(self._authentic(series, snapshot_id), part)
        stored = self._open_info(series, snapshot_id, info)
        return open_verified(
            stored,
            size=info.size,
            sha256=info.sha256,
            raw_size=info.raw_size,
            describe=lambda: self._where(series, snapshot_id, info.name),
        )

    def _authentic(self, series: str, snapshot_id: str) -> Manifest:
        return self.authenticate(self.get_manifest(series, snapshot_id))

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
        info = self._part(self._authentic(series, snapshot_id), part)
        check = self._check_info(series, snapshot_id, info)
        if not check.ok:
            raise IntegrityError(f"{self._where(series, snapshot_id, part)}: {check.problem}; "
                                 "restore from another copy")
        return info

    def verify(self, series: str, snapshot_id: str) -> VerifyResult:
        """Re-hash every part of a snapshot; returns a VerifyResult (raises SnapshotNotFound)."""
        manifest = self._authentic(series, snapshot_id)
        checks = tuple(self._check_info(series, snapshot_id, p) for p in manifest.parts)
        return VerifyResult(repository=self.name, series=series, id=snapshot_id, parts=checks)

    # ----- removing ---------------------------------------------------------------------

    def delete(self, series: str, snapshot_id: str, *, missing_ok: bool = False) -> None:
        """Delete a snapshot: the manifest goes first, so a half-deleted one is invisible.

        Raises SnapshotNotFound when there is no manifest, unless `missing_ok` (leftover
        data of an invisible snapshot is removed either way).
        """
        self._check_names(series, snapshot_id)
        self._claim(create=False)
        where = self._where(series, snapshot_id)
        present = self._guarded(where, self._load_manifest, series, snapshot_id) is not None
        if not present and not missing_ok:
            raise SnapshotNotFound(f"{where}: not found")
        self._guarded(where, self._remove_manifest, series, snapshot_id)
        self._guarded(where, self._remove_data, series, snapshot_id)

    def leftovers(self, series: str | None = None) -> list[Leftover]:
        """Snapshot folders drydock began writing (in-progress marker) that have no
        manifest: interrupted writes, of `series` if given. Nothing else is listed."""
        from providers.repositories.cleanup import find_leftovers

        return find_leftovers(self, series)

    def remove_leftover(self, series: str, snapshot_id: str) -> bool:
        """Remove one interrupted write after re-checking it is one; True when removed."""
        from providers.repositories.cleanup import remove_leftover

        return remove_leftover(self, series, snapshot_id)

    def cleanup_incomplete(self, *, now: datetime, grace: timedelta) -> list[str]:
        """Remove interrupted writes untouched for at least `grace`; returns ``series/id``s.

        Only folders carrying drydock's in-progress marker are candidates; a folder another
        tool put beside the snapshots is never touched.
        """
        from providers.repositories.cleanup import cleanup_incomplete

        return cleanup_incomplete(self, now=now, grace=grace)

    # ----- copying ----------------------------------------------------------------------

    def copy_from(self, other: Repository, series: str, snapshot_id: str) -> Manifest:
        """Copy a snapshot from `other`, stored bytes unchanged, verified here, manifest last.

        Returns the manifest. Already present with the same parts: returns it untouched.
        Raises SnapshotNotFound (not in `other`), IntegrityError (bytes differ from the
        manifest at the source or here, or a MAC does not verify) or RepositoryError; a
        failed copy stays invisible.
        """
        from providers.repositories.copying import copy_snapshot

        return copy_snapshot(self, other, series, snapshot_id)
