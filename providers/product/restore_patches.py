"""Find a server's change backups and restore patch folders from one of them.

Change backups live in `<host_root>/.drydock/change-backups/<server>/<id>/` (the id is the
plan id that took it; ids sort by time) and are complete once `backup.json` exists.
Restoring patches from one — of the same server or of another — replaces the declared
patch folders (`patchNNNN`) with the backup's, while the server's own parts of the
patches directory (`patch0000`, Carbon's originals of the plugins, and `.metadata`) stay:
they describe that server's plugins, not the backed-up one's.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from engine.contracts.facts import ChangeBackup
from engine.spec.loader import LoadedSpec
from providers.product.change_backup import MANIFEST, read_backup
from safefs.pathsafety import UnsafePathError, contained, safe_member_name

PATCHES = "repository/components/patches"
OWN_PARTS = ("patch0000", ".metadata")
PATCH_DIR = re.compile(r"^patch\d{4,}$")


class ChangeBackupError(ValueError):
    """A change backup is missing, incomplete or unusable; the message says which."""


def backups_root(host_root: Path, server: str) -> Path:
    """`<host_root>/.drydock/change-backups/<server>`."""
    return host_root / ".drydock" / "change-backups" / server


def _level(backup_dir: Path) -> int:
    try:
        data = json.loads((backup_dir / "files" / "updates" / "config.json").read_text("utf-8"))
        return int(data.get("update-level", -1))
    except (OSError, ValueError, AttributeError, TypeError):
        return -1


def describe(server: str, backup_dir: Path) -> ChangeBackup:
    """Read one change backup. Raises ChangeBackupError when it is incomplete."""
    try:
        existed = read_backup(backup_dir)
    except (ValueError, KeyError, TypeError) as exc:
        raise ChangeBackupError(str(exc)) from exc
    folder = backup_dir / "files" / PATCHES
    has = existed.get(PATCHES, False) and folder.is_dir()
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and PATCH_DIR.match(p.name)
                   and p.name != "patch0000") if has else []
    return ChangeBackup(server=server, id=backup_dir.name, dir=str(backup_dir),
                        level=_level(backup_dir), patches=tuple(found), has_patches=bool(has))


def list_backups(root: Path) -> list[Path]:
    """The complete change backups under `root` (those with `backup.json`), oldest first."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def resolve(host_root: Path, server: str, backup_id: str) -> ChangeBackup:
    """The change backup `backup_id` (a folder name, or `latest`) of `server`.

    Raises ChangeBackupError naming the folder searched and what exists there.
    """
    root = backups_root(host_root, server)
    complete = list_backups(root)
    if backup_id == "latest":
        if not complete:
            raise ChangeBackupError(f"{server} has no complete change backup under {root}")
        return describe(server, complete[-1])
    try:
        name = safe_member_name(backup_id, archive="change backup id")
    except UnsafePathError as exc:
        raise ChangeBackupError(str(exc)) from exc
    if len(name.parts) != 1 or not (root / backup_id / MANIFEST).is_file():
        known = ", ".join(p.name for p in complete[-3:]) or "none"
        raise ChangeBackupError(f"{server} has no complete change backup {backup_id!r} under "
                                f"{root} (newest: {known}); use {server}@latest or one of those")
    return describe(server, root / backup_id)


def find_change_backup(spec: LoadedSpec, server: str, backup_id: str) -> ChangeBackup:
    """The change backup `backup_id` (a folder name or `latest`) of a server declared in
    the spec.

    Raises ChangeBackupError when the server is not declared or the backup is not there.
    """
    declared = spec.env.servers.get(server)
    if declared is None:
        raise ChangeBackupError(f"server {server!r} is not in the spec, so its change backups "
                                "cannot be located; declare it or name another server")
    host_root = spec.path(spec.env.hosts[declared.host].root)
    return resolve(host_root, server, backup_id or "latest")


def _check_no_links(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise ChangeBackupError(f"{path} is a link or special file; a patches backup may "
                                    "hold only folders and files")


def restore_patches(home: Path, backup_dir: Path) -> list[str]:
    """Replace `home`'s declared patch folders with those of the change backup.

    The new patches directory is assembled beside the old one and swapped in by rename.
    Returns the patch folders now installed. Raises ChangeBackupError when the backup is
    incomplete, holds no patches directory, or holds links or special files.
    """
    source = describe(backup_dir.parent.name, backup_dir)
    if not source.has_patches:
        raise ChangeBackupError(f"change backup {backup_dir} holds no {PATCHES}; "
                                "pick a backup that has one")
    src = backup_dir / "files" / PATCHES
    _check_no_links(src)
    target = contained(home, PATCHES, what=f"{home} patches")
    staged = target.with_name(f".{target.name}.drydock-restore")
    old = target.with_name(f".{target.name}.drydock-old")
    for leftover in (staged, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    staged.mkdir(parents=True)
    for name in source.patches:
        shutil.copytree(src / name, staged / name)
    for name in OWN_PARTS:
        if (target / name).is_dir():
            shutil.copytree(target / name, staged / name, symlinks=True)
    if target.exists():
        target.rename(old)
    staged.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return list(source.patches)
