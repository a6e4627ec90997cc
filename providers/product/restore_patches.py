"""Find a server's change backups and restore patch folders from one of them.

Change backups live in `<host_root>/.drydock/change-backups/<server>/<id>/` (the id is the
plan id that took it; ids sort by time) and are complete once `backup.json` exists.
Restoring patches from one — of the same server or of another — replaces the declared
patch folders (`patchNNNN`) with the backup's, while the server's own parts of the
patches directory (`patch0000`, Carbon's originals of the plugins, and `.metadata`) stay:
they describe that server's plugins, not the backed-up one's. Everything happens on the
server's host through its transport.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from engine.contracts.facts import ChangeBackup
from engine.spec.loader import LoadedSpec
from providers.hosts.base import Transport
from providers.hosts.paths import exists, inside, is_dir, is_file
from providers.product.change_backup import MANIFEST, read_backup
from safefs.pathsafety import UnsafePathError, safe_member_name

PATCHES = "repository/components/patches"
OWN_PARTS = ("patch0000", ".metadata")
PATCH_DIR = re.compile(r"^patch\d{4,}$")


class ChangeBackupError(ValueError):
    """A change backup is missing, incomplete or unusable; the message says which."""


def backups_root(host_root: PurePosixPath, server: str) -> PurePosixPath:
    """`<host_root>/.drydock/change-backups/<server>`."""
    return host_root / ".drydock" / "change-backups" / server


def _level(t: Transport, backup_dir: PurePosixPath) -> int:
    try:
        raw = t.read_bytes(backup_dir / "files" / "updates" / "config.json", limit=1 << 20)
        return int(json.loads(raw.decode("utf-8")).get("update-level", -1))
    except (OSError, ValueError, AttributeError, TypeError):
        return -1


def describe(t: Transport, server: str, backup_dir: PurePosixPath) -> ChangeBackup:
    """Read one change backup. Raises ChangeBackupError when it is incomplete."""
    try:
        existed = read_backup(t, backup_dir)
    except (ValueError, KeyError, TypeError) as exc:
        raise ChangeBackupError(str(exc)) from exc
    folder = backup_dir / "files" / PATCHES
    has = existed.get(PATCHES, False) and is_dir(t, folder)
    found = sorted(e.name for e in t.list_dir(folder) if e.stat.kind == "dir"
                   and PATCH_DIR.match(e.name) and e.name != "patch0000") if has else []
    return ChangeBackup(server=server, id=backup_dir.name, dir=str(backup_dir),
                        level=_level(t, backup_dir), patches=tuple(found),
                        has_patches=bool(has))


def list_backups(t: Transport, root: PurePosixPath) -> list[PurePosixPath]:
    """The complete change backups under `root` (those with `backup.json`), oldest first."""
    return [root / e.name for e in t.list_dir(root)
            if e.stat.kind == "dir" and is_file(t, root / e.name / MANIFEST)]


def resolve(t: Transport, host_root: PurePosixPath, server: str,
            backup_id: str) -> ChangeBackup:
    """The change backup `backup_id` (a folder name, or `latest`) of `server`.

    Raises ChangeBackupError naming the folder searched and what exists there.
    """
    root = backups_root(host_root, server)
    complete = list_backups(t, root)
    if backup_id == "latest":
        if not complete:
            raise ChangeBackupError(f"{server} has no complete change backup under {root}")
        return describe(t, server, complete[-1])
    try:
        name = safe_member_name(backup_id, archive="change backup id")
    except UnsafePathError as exc:
        raise ChangeBackupError(str(exc)) from exc
    if len(name.parts) != 1 or not is_file(t, root / backup_id / MANIFEST):
        known = ", ".join(p.name for p in complete[-3:]) or "none"
        raise ChangeBackupError(f"{server} has no complete change backup {backup_id!r} under "
                                f"{root} (newest: {known}); use {server}@latest or one of those")
    return describe(t, server, root / backup_id)


def find_change_backup(spec: LoadedSpec, t: Transport, server: str,
                       backup_id: str) -> ChangeBackup:
    """The change backup `backup_id` (a folder name or `latest`) of a server declared in
    the spec, read through its host's transport `t`.

    Raises ChangeBackupError when the server is not declared or the backup is not there.
    """
    declared = spec.env.servers.get(server)
    if declared is None:
        raise ChangeBackupError(f"server {server!r} is not in the spec, so its change backups "
                                "cannot be located; declare it or name another server")
    host_root = PurePosixPath(spec.path(spec.env.hosts[declared.host].root))
    return resolve(t, host_root, server, backup_id or "latest")


def _check_no_links(t: Transport, folder: PurePosixPath) -> None:
    for rel, st in t.walk(folder):
        if st.kind not in ("dir", "file"):
            raise ChangeBackupError(f"{folder / rel} is a link or special file; a patches "
                                    "backup may hold only folders and files")


def restore_patches(t: Transport, home: PurePosixPath, backup_dir: PurePosixPath) -> list[str]:
    """Replace `home`'s declared patch folders with those of the change backup.

    The new patches directory is assembled beside the old one and swapped in by rename.
    Returns the patch folders now installed. Raises ChangeBackupError when the backup is
    incomplete, holds no patches directory, or holds links or special files.
    """
    source = describe(t, backup_dir.parent.name, backup_dir)
    if not source.has_patches:
        raise ChangeBackupError(f"change backup {backup_dir} holds no {PATCHES}; "
                                "pick a backup that has one")
    src = backup_dir / "files" / PATCHES
    _check_no_links(t, src)
    target = inside(t, home, PATCHES, what=f"{home} patches")
    staged = target.with_name(f".{target.name}.drydock-restore")
    old = target.with_name(f".{target.name}.drydock-old")
    for leftover in (staged, old):
        t.remove_tree(leftover)
    t.mkdir(staged)
    for name in source.patches:
        t.copy_tree(src / name, staged / name)
    for name in OWN_PARTS:
        if is_dir(t, target / name):
            t.copy_tree(target / name, staged / name)
    if exists(t, target):
        t.rename(target, old)
    t.rename(staged, target)
    t.remove_tree(old)
    return list(source.patches)
