"""Going down update levels: roll a home back through the change backups taken as it rose.

Every pre-change backup of an in-place level change also records `levels.json`
(`{"from": 10, "to": 14, "strategy": "in-place"}`) beside `backup.json`; such a backup
holds `updates/` and every file those levels touched, as they were at the lower level.
Rolling back from N to M restores, newest first, the backups whose levels chain from N
down to M — only their level files and `updates/`: the configuration and the declared
patches are the plan's own later steps. The backups are on the server's host and are
read and restored there through its transport.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from providers.hosts.base import Transport
from providers.product.change_backup import read_backup, restore_backup
from providers.product.restore_patches import list_backups
from providers.product.updates import read_level

LEVELS = "levels.json"
KEPT = ("repository/conf", "repository/components/patches")


class DowngradeError(ValueError):
    """No chain of change backups leads down to the wanted level."""


class LevelBackup(BaseModel):
    """A change backup taken before an in-place level change from `from_level` to `to_level`."""

    model_config = ConfigDict(frozen=True)

    id: str
    dir: str
    from_level: int
    to_level: int


def write_levels(t: Transport, backup_dir: PurePosixPath, from_level: int, to_level: int,
                 strategy: str) -> None:
    """Record, beside a change backup, the level change it was taken for."""
    data = {"from": from_level, "to": to_level, "strategy": strategy}
    t.write_atomic(backup_dir / LEVELS, (json.dumps(data) + "\n").encode())


def level_backups(t: Transport, root: PurePosixPath) -> list[LevelBackup]:
    """The complete in-place level-change backups under `root`, oldest first."""
    out = []
    for folder in list_backups(t, root):
        try:
            data = json.loads(t.read_bytes(folder / LEVELS, limit=1 << 20).decode("utf-8"))
            if data.get("strategy") != "in-place":
                continue
            out.append(LevelBackup(id=folder.name, dir=str(folder),
                                   from_level=int(data["from"]), to_level=int(data["to"])))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return out


def find_chain(backups: Sequence[LevelBackup], now: int, want: int,
               server: str) -> list[LevelBackup]:
    """The backups to restore, newest level first, to go from level `now` down to `want`.

    Raises DowngradeError naming the level no backup leads down from.
    """
    chain: list[LevelBackup] = []
    level = now
    while level > want:
        fits = [b for b in backups if b.to_level == level and want <= b.from_level < level]
        if not fits:
            spans = sorted({(b.from_level, b.to_level) for b in backups})
            known = ", ".join(f"{a}→{b}" for a, b in spans) or "none"
            raise DowngradeError(
                f"{server}: no change backup leads down from update level {level} towards "
                f"{want} (in-place level changes backed up: {known}); a lower level cannot be "
                "restored without one")
        pick = max(fits, key=lambda b: b.id)
        chain.append(pick)
        level = pick.from_level
    return chain


def touched_paths(t: Transport, chain: Sequence[LevelBackup]) -> list[str]:
    """The home paths restoring `chain` changes (for the downgrade's own pre-change backup)."""
    paths: set[str] = set()
    for backup in chain:
        paths.update(p for p in read_backup(t, PurePosixPath(backup.dir)) if not _kept(p))
    return sorted(paths)


def _kept(path: str) -> bool:
    return any(path == k or path.startswith(k + "/") for k in KEPT)


def roll_back(t: Transport, home: PurePosixPath, chain: Sequence[LevelBackup]) -> list[str]:
    """Restore `chain` into `home` in order; returns the paths restored.

    Raises DowngradeError when a backup does not bring the home to its recorded level.
    """
    done: list[str] = []
    for backup in chain:
        if read_level(t, home) <= backup.from_level:
            continue
        folder = PurePosixPath(backup.dir)
        only = [p for p in read_backup(t, folder) if not _kept(p)]
        done += restore_backup(t, home, folder, only=only)
        level = read_level(t, home)
        if level != backup.from_level:
            raise DowngradeError(f"change backup {folder} left {home} at level {level}, not "
                                 f"{backup.from_level}; it does not hold updates/")
    return done
