"""Pre-change backups of a server home and their exact restoration, on the server's host.

A change backup copies the listed paths (folders or files, relative to the home) into
`<backup_dir>/files/` and writes `<backup_dir>/backup.json` last, recording which paths
existed. Restoring puts every listed path back to those exact bytes and removes paths
that did not exist before the change. Both copy on the host (`Transport.copy_tree`):
nothing of the home travels to the controller. A backup costs little: patch folders are
hard-linked (their jars are never written in place), other files are copy-on-write
clones where the file system has them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath

from providers.hosts.base import Transport
from providers.hosts.paths import exists, inside, inside_resolved
from safefs.pathsafety import safe_member_name

MANIFEST = "backup.json"
PATCHES = "repository/components/patches"  # observe.PATCHES (which imports this module)


def take_backup(t: Transport, home: PurePosixPath, backup_dir: PurePosixPath,
                paths: Sequence[str]) -> dict[str, bool]:
    """Copy `paths` of `home` into `backup_dir`; returns path -> existed. Idempotent.

    Folders are copied before what lies in them, and a path inside a folder already
    copied (a config file in `repository/conf`) is only recorded: its bytes are in that
    copy.
    """
    t.remove_tree(backup_dir)
    files = backup_dir / "files"
    t.mkdir(files)
    existed: dict[str, bool] = {}
    copied: set[PurePosixPath] = set()
    home_base, files_base = t.realpath(home), t.realpath(files)
    names = {rel: safe_member_name(rel, archive="backup path") for rel in dict.fromkeys(paths)}
    for rel, name in sorted(names.items(), key=lambda item: len(item[1].parts)):
        src = inside_resolved(t, home_base, home, rel, what="backup path")
        existed[rel] = exists(t, src)
        if not existed[rel] or name in copied or any(p in copied for p in name.parents):
            continue
        # files/ is new and, with ancestors first and their insides skipped, holds on the
        # way to `name` only folders made here: nothing there can be a link.
        dst = files_base / name
        t.mkdir(dst.parent)
        t.copy_tree(src, dst, link=_immutable(rel))
        copied.add(name)
    t.write_atomic(backup_dir / MANIFEST,
                   json.dumps({"home": str(home), "paths": existed}, indent=2).encode())
    return existed


def _immutable(rel: str) -> bool:
    """Patch folders hold jars nobody writes in place (a patch is replaced or removed as
    a folder): their backup hard-links them. Everything else is copied (a clone where the
    file system has them), since a server or a person may edit it in place."""
    return rel == PATCHES or rel.startswith(f"{PATCHES}/")


def read_backup(t: Transport, backup_dir: PurePosixPath) -> dict[str, bool]:
    """The path -> existed map of a complete backup; ValueError when it is incomplete."""
    try:
        data = json.loads(t.read_bytes(backup_dir / MANIFEST).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"change backup {backup_dir} is incomplete or missing ({exc})") from exc
    return {str(k): bool(v) for k, v in data["paths"].items()}


def restore_backup(t: Transport, home: PurePosixPath, backup_dir: PurePosixPath, *,
                   only: Sequence[str] | None = None) -> list[str]:
    """Put the backed-up paths back exactly; returns the paths restored.

    Each path is first copied beside its target and then swapped in, so a failure half
    way leaves the target as it was.
    """
    existed = read_backup(t, backup_dir)
    files = backup_dir / "files"
    done = []
    for rel, was_there in existed.items():
        if only is not None and not any(rel == o or rel.startswith(o.rstrip("/") + "/")
                                        for o in only):
            continue
        target = inside(t, home, rel, what="restore path")
        staged = target.with_name(f".{target.name}.drydock-restore")
        t.remove_tree(staged)
        if was_there:
            src = inside(t, files, rel, what="restore path")
            t.mkdir(staged.parent)
            t.copy_tree(src, staged)
        t.remove_tree(target)
        if was_there:
            t.rename(staged, target)
        done.append(rel)
    return done
