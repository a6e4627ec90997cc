"""Copying a snapshot between repositories: stored bytes unchanged, verified, manifest last."""

from __future__ import annotations

from typing import Any

from providers.repositories.errors import IntegrityError, RepositoryError
from providers.repositories.manifest import Manifest, PartInfo
from providers.repositories.streams import copy_stream

# The repository these helpers work for is `providers.repositories.base.Repository`; it
# imports this module lazily, so the annotation names it without importing it back.
Repository = Any


def copy_snapshot(dest: Repository, other: Repository, series: str, snapshot_id: str
                  ) -> Manifest:
    """See ``Repository.copy_from``. A keyed source must authenticate its manifest; a
    keyed destination signs the copy with its own key."""
    source = other.get_manifest(series, snapshot_id)
    other.authenticate(source)
    present = dest._manifest_or_none(series, snapshot_id)
    if present is not None:
        if present.parts == source.parts:
            return present
        raise RepositoryError(
            f"{dest._where(series, snapshot_id)}: exists with different parts than in "
            f"repository {other.name}; delete one of them first"
        )
    dest._claim(create=True)
    written = dest.sign(source)
    try:
        dest._begin(series, snapshot_id)
        for info in source.parts:
            _copy_part(dest, other, source, info)
        for info in source.parts:
            check = dest._check_info(series, snapshot_id, info)
            if not check.ok:
                raise IntegrityError(
                    f"{dest._where(series, snapshot_id, info.name)}: copy from "
                    f"repository {other.name} does not verify ({check.problem})"
                )
        dest._guarded(dest._where(series, snapshot_id), dest._save_manifest, series,
                      snapshot_id, written.to_json())
    except BaseException:
        dest._discard(series, snapshot_id)
        raise
    dest._finish(series, snapshot_id)
    return written


def _copy_part(dest: Repository, other: Repository, manifest: Manifest, info: PartInfo) -> None:
    stored = other._open_info(manifest.series, manifest.id, info)
    with stored, dest._open_writer(manifest.series, manifest.id, info.name) as metered:
        copy_stream(stored, metered)  # type: ignore[arg-type]
        if metered.count != info.size or metered.hexdigest() != info.sha256:
            raise IntegrityError(
                f"{other._where(manifest.series, manifest.id, info.name)}: stored "
                "bytes differ from its manifest; not copied"
            )
