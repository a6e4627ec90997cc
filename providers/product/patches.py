"""Install and remove patch folders from untrusted patch archives (DESIGN §6).

The archive is read on the controller; the patch folder is streamed as tar into a
staging folder on the server's host and renamed into place there.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO

from engine.contracts.provider import ActionFailed
from providers.hosts.base import HostError, Transport
from providers.hosts.paths import exists, fresh_sibling, is_empty_dir, stage_tree
from providers.product.archive import ArchiveError, verify_zip
from providers.product.artifact_files import artifact_present
from providers.product.observe import PATCHES
from providers.product.patch_sources import Listing, PatchSources, listing
from providers.product.ziptar import write_zip_tar


def install_patch(t: Transport, home: PurePosixPath, archive: Path, patch_id: str,
                  patch_dir: str, sources: PatchSources | None = None) -> PurePosixPath:
    """Copy `<patch_id>/<patch_dir>/` from the archive into the home's patches folder.

    The archive is checked whole (paths, links, every member's CRC, also of the members
    it does not copy) before anything is written to the home; the folder then appears by
    one rename. Only `<patch_id>/<patch_dir>/` is copied: the archive's other members are
    instructions for a person (see `patch_facts`). With `sources` (one run's), an archive
    is checked once and a patch already installed on the host by this run is hard-linked
    from there (see `patch_sources`). Raises ActionFailed naming the archive.
    """
    if not artifact_present(archive):
        raise ActionFailed(f"patch archive {archive} not found; put it in the product's "
                           "patches folder")
    sources = sources or PatchSources()
    try:
        key = f"{sources.digest(archive)}:{patch_id}/{patch_dir}"
    except OSError as exc:
        raise ActionFailed(f"patch archive {archive} cannot be read ({exc.strerror})") from exc
    patches = home / PATCHES
    target = patches / patch_dir
    t.mkdir(patches)
    staged = _linked(t, sources, key, target)
    if staged is None:
        staged, files = _from_archive(t, sources, archive, patch_id, patch_dir, target)
        sources.remember(t.host, key, target, files)
    t.remove_tree(target)
    t.rename(staged, target)
    return target


def _linked(t: Transport, sources: PatchSources, key: str,
            target: PurePosixPath) -> PurePosixPath | None:
    """A staged hard-linked copy of the folder this run installed `key` into on the host,
    when it still holds exactly the files it was installed with; None otherwise."""
    found = sources.source(t.host, key)
    if found is None or found[0] == target:
        return None
    source, files = found
    staged = fresh_sibling(target, "partial")
    try:
        t.copy_tree(source, staged, link=True)
        if listing(t, staged) == files:
            return staged
    except HostError:
        pass
    t.remove_tree(staged)
    sources.forget(t.host, key)
    return None


def _from_archive(t: Transport, sources: PatchSources, archive: Path, patch_id: str,
                  patch_dir: str, target: PurePosixPath) -> tuple[PurePosixPath, Listing]:
    digest = sources.digest(archive)
    if not sources.verified(digest):
        try:
            verify_zip(archive)
        except ArchiveError as exc:
            raise ActionFailed(f"patch {patch_id}: {exc}") from exc
        sources.mark_verified(digest)

    def produce(sink: BinaryIO) -> None:
        write_zip_tar(archive, sink, only=f"{patch_id}/{patch_dir}",
                      strip=f"{patch_id}/{patch_dir}")

    try:
        staged = stage_tree(t, target, produce)
    except ArchiveError as exc:
        raise ActionFailed(f"patch {patch_id}: {exc}") from exc
    if is_empty_dir(t, staged) or not exists(t, staged):
        t.remove_tree(staged)
        raise ActionFailed(f"patch archive {archive} holds no {patch_id}/{patch_dir}/")
    return staged, listing(t, staged)


def remove_patch(t: Transport, home: PurePosixPath, patch_dir: str) -> bool:
    """Remove a patch folder; False when it was not there (idempotent)."""
    return t.remove_tree(home / PATCHES / patch_dir)
