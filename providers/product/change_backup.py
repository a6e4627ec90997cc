"""Pre-change backups of a server home and their exact restoration.

A change backup copies the listed paths (folders or files, relative to the home) into
`<backup_dir>/files/` and writes `<backup_dir>/backup.json` last, recording which paths
existed. Restoring puts every listed path back to those exact bytes and removes paths
that did not exist before the change.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from providers.hosts.local import atomic_write
from safefs.pathsafety import contained

MANIFEST = "backup.json"


def take_backup(home: Path, backup_dir: Path, paths: Sequence[str]) -> dict[str, bool]:
    """Copy `paths` of `home` into `backup_dir`; returns path -> existed. Idempotent."""
    if backup_dir.exists():
        shutil.rmtree(backup_dir)
    files = backup_dir / "files"
    files.mkdir(parents=True)
    existed: dict[str, bool] = {}
    for rel in dict.fromkeys(paths):
        src = contained(home, rel, what="backup path")
        dst = contained(files, rel, what="backup path")
        existed[rel] = src.exists() or src.is_symlink()
        if not existed[rel]:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
    atomic_write(backup_dir / MANIFEST,
                 json.dumps({"home": str(home), "paths": existed}, indent=2).encode())
    return existed


def read_backup(backup_dir: Path) -> dict[str, bool]:
    """The path -> existed map of a complete backup; ValueError when it is incomplete."""
    try:
        data = json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"change backup {backup_dir} is incomplete or missing ({exc})") from exc
    return {str(k): bool(v) for k, v in data["paths"].items()}


def restore_backup(home: Path, backup_dir: Path, *, only: Sequence[str] | None = None) -> list[str]:
    """Put the backed-up paths back exactly; returns the paths restored.

    Each path is first copied beside its target and then swapped in, so a failure half
    way leaves the target as it was.
    """
    existed = read_backup(backup_dir)
    files = backup_dir / "files"
    done = []
    for rel, was_there in existed.items():
        if only is not None and not any(rel == o or rel.startswith(o.rstrip("/") + "/")
                                        for o in only):
            continue
        target = contained(home, rel, what="restore path")
        staged = target.with_name(f".{target.name}.drydock-restore")
        _remove(staged)
        if was_there:
            src = contained(files, rel, what="restore path")
            staged.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir() and not src.is_symlink():
                shutil.copytree(src, staged, symlinks=True)
            else:
                shutil.copy2(src, staged, follow_symlinks=False)
        _remove(target)
        if was_there:
            staged.rename(target)
        done.append(rel)
    return done


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
