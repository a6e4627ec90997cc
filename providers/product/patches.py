"""Install and remove patch folders from untrusted patch archives (DESIGN §6)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from engine.contracts.provider import ActionFailed
from providers.product.archive import ArchiveError, extract_zip
from providers.product.observe import PATCHES


def install_patch(home: Path, archive: Path, patch_id: str, patch_dir: str) -> Path:
    """Copy `<patch_id>/<patch_dir>/` from the archive into the home's patches folder.

    The archive is checked whole (paths, links, CRCs) before anything is written to the
    home; the folder then appears by one rename. Raises ActionFailed naming the archive.
    """
    if not archive.is_file():
        raise ActionFailed(f"patch archive {archive} not found; put it in the product's "
                           "patches folder")
    patches = home / PATCHES
    patches.mkdir(parents=True, exist_ok=True)
    target = patches / patch_dir
    with tempfile.TemporaryDirectory(prefix=".patch-", dir=patches) as tmp:
        staged = Path(tmp) / "x"
        try:
            extract_zip(archive, staged, only=f"{patch_id}/{patch_dir}",
                        strip=f"{patch_id}/{patch_dir}")
        except ArchiveError as exc:
            raise ActionFailed(f"patch {patch_id}: {exc}") from exc
        if not any(staged.iterdir()):
            raise ActionFailed(f"patch archive {archive} holds no {patch_id}/{patch_dir}/")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return target


def remove_patch(home: Path, patch_dir: str) -> bool:
    """Remove a patch folder; False when it was not there (idempotent)."""
    target = home / PATCHES / patch_dir
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True
