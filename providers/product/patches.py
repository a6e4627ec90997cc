"""Install and remove patch folders from untrusted patch archives (DESIGN §6).

The archive is read on the controller; the patch folder is streamed as tar into a
staging folder on the server's host and renamed into place there.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO

from engine.contracts.provider import ActionFailed
from providers.hosts.base import Transport
from providers.hosts.paths import exists, is_empty_dir, stage_tree
from providers.product.archive import ArchiveError, verify_zip
from providers.product.artifact_files import artifact_present
from providers.product.observe import PATCHES
from providers.product.ziptar import write_zip_tar


def install_patch(t: Transport, home: PurePosixPath, archive: Path, patch_id: str,
                  patch_dir: str) -> PurePosixPath:
    """Copy `<patch_id>/<patch_dir>/` from the archive into the home's patches folder.

    The archive is checked whole (paths, links, every member's CRC, also of the members
    it does not copy) before anything is written to the home; the folder then appears by
    one rename. Only `<patch_id>/<patch_dir>/` is copied: the archive's other members are
    instructions for a person (see `patch_facts`). Raises ActionFailed naming the archive.
    """
    if not artifact_present(archive):
        raise ActionFailed(f"patch archive {archive} not found; put it in the product's "
                           "patches folder")
    try:
        verify_zip(archive)
    except ArchiveError as exc:
        raise ActionFailed(f"patch {patch_id}: {exc}") from exc
    patches = home / PATCHES
    target = patches / patch_dir
    t.mkdir(patches)

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
    t.remove_tree(target)
    t.rename(staged, target)
    return target


def remove_patch(t: Transport, home: PurePosixPath, patch_dir: str) -> bool:
    """Remove a patch folder; False when it was not there (idempotent)."""
    return t.remove_tree(home / PATCHES / patch_dir)
