"""Interrupted writes: find drydock's own unfinished snapshot folders and remove them.

A candidate carries drydock's in-progress marker and no manifest; a folder without the
marker belongs to somebody else and is neither listed nor removed. Removal is an action
the plan lists (``backup.cleanup``), never a side effect of taking a backup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from providers.repositories.ownership import WRITING_MARKER, Leftover, writer_gone

# The repository these helpers work for is `providers.repositories.base.Repository`; it
# imports this module lazily, so the annotation names it without importing it back.
Repository = Any


def find_leftovers(repo: Repository, series: str | None) -> list[Leftover]:
    """The interrupted writes in `repo` (of `series` if given), oldest first."""
    repo._claim(create=False)
    where = f"repository {repo.name}"
    try:
        found = [Leftover(series=s, id=i, modified=m, writer_gone=_gone(repo, s, i))
                 for s, i, m in repo._unfinished(series)]
    except OSError as exc:
        raise repo._io_error(where)(exc) from exc
    return sorted(found, key=lambda item: (item.modified, item.series, item.id))


def _gone(repo: Repository, series: str, snapshot_id: str) -> bool:
    try:
        handle = repo._reader(series, snapshot_id, WRITING_MARKER)
    except OSError:
        return False
    try:
        return writer_gone(handle.read(1 << 16))
    except OSError:
        return False
    finally:
        handle.close()


def remove_leftover(repo: Repository, series: str, snapshot_id: str) -> bool:
    """Remove one interrupted write after re-checking it still is one; True when removed.

    A snapshot that got its manifest meanwhile, or a folder without drydock's marker, is
    left alone (False).
    """
    repo._check_names(series, snapshot_id)
    still = {(item.series, item.id) for item in find_leftovers(repo, series)}
    if (series, snapshot_id) not in still:
        return False
    if repo._guarded(repo._where(series, snapshot_id), repo._load_manifest, series,
                     snapshot_id) is not None:
        return False
    repo._guarded(repo._where(series, snapshot_id), repo._remove_data, series, snapshot_id)
    return True


def cleanup_incomplete(repo: Repository, *, now: datetime, grace: timedelta) -> list[str]:
    """Remove interrupted writes untouched for at least `grace`; returns ``series/id``s."""
    removed: list[str] = []
    for item in find_leftovers(repo, None):
        if now - item.modified >= grace and repo.remove_leftover(item.series, item.id):
            removed.append(f"{item.series}/{item.id}")
    return removed
