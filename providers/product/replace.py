"""Pack replacement: unpack the updated pack beside a home, carry runtime data over, swap.

The updated pack is the product pack at the target level, found beside the product's
`pack` as `<pack stem>-level<N>.zip` (`wso2am-4.2.0.zip` -> `wso2am-4.2.0-level14.zip`).
It is unpacked into `<home>.next-<plan id>`, the runtime data (`CARRIED`, and the declared
patch folders) is copied over from the current home, and the two are swapped by rename so
the home path stays the same: the old home becomes `<home>.previous-<plan id>` and is kept
for rollback (`swap_back`) until the next replacement of that home succeeds.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePath

from pydantic import BaseModel, ConfigDict

from providers.product.archive import extract_zip
from providers.product.install import pack_facts, pack_top
from providers.product.updates import read_level
from safefs.pathsafety import contained

CARRIED = ("repository/conf", "repository/deployment/server", "repository/tenants",
           "repository/resources/security", "repository/database")
PATCHES = "repository/components/patches"


class ReplaceError(ValueError):
    """The pack cannot replace the home; the message names the pack or the home."""


class ReplaceResult(BaseModel):
    """Where the old home went and what was carried over."""

    model_config = ConfigDict(frozen=True)

    previous: str
    carried: tuple[str, ...]
    already: bool = False


def level_pack(pack: str | PurePath, level: int) -> PurePath:
    """The updated pack of `pack` at `level`: `<stem>-level<N>.zip` in the same folder."""
    path = PurePath(pack)
    return path.with_name(f"{path.name.removesuffix('.zip')}-level{level}.zip")


def _sibling(home: Path, what: str, plan_id: str) -> Path:
    return home.with_name(f"{home.name}.{what}-{plan_id}")


def previous_home(home: Path, plan_id: str) -> Path:
    """Where `replace_home` of `plan_id` keeps the old home: `<home>.previous-<plan id>`."""
    return _sibling(home, "previous", plan_id)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_over(src_home: Path, dst_home: Path, rel: str) -> bool:
    """Replace `rel` in `dst_home` with a copy of it from `src_home`; False when absent."""
    src = contained(src_home, rel, what=f"{src_home} path")
    dst = contained(dst_home, rel, what=f"{dst_home} path")
    if not (src.exists() or src.is_symlink()):
        return False
    if dst.is_dir() and not dst.is_symlink():
        shutil.rmtree(dst)
    elif dst.exists() or dst.is_symlink():
        dst.unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True)
    else:
        shutil.copy2(src, dst, follow_symlinks=False)
    return True


def prune_previous(home: Path, keep_plan: str) -> list[str]:
    """Remove `<home>.previous-*` and `<home>.failed-*` left by earlier plans."""
    removed = []
    for prefix in ("previous", "failed"):
        for old in sorted(home.parent.glob(f"{home.name}.{prefix}-*")):
            if old.name.endswith(f"-{keep_plan}") or not old.is_dir():
                continue
            shutil.rmtree(old)
            removed.append(old.name)
    return removed


def replace_home(home: Path, pack: Path, *, level: int, patches: Sequence[str],
                 plan_id: str) -> ReplaceResult:
    """Put the product of `pack` (at `level`) in place of `home`, keeping its runtime data.

    `patches` are the patch folders to carry over (the declared ones). Idempotent for
    one plan id. Raises ReplaceError when the pack is for another product or level,
    ArchiveError for an unsafe or corrupt pack; the home is then unchanged.
    """
    previous, staging = _sibling(home, "previous", plan_id), _sibling(home, "next", plan_id)
    if previous.is_dir() and home.is_dir() and read_level(home) == level:
        return ReplaceResult(previous=str(previous), carried=(), already=True)
    if previous.is_dir() and not home.exists() and staging.is_dir():
        staging.rename(home)  # an interrupted swap: finish it
        return ReplaceResult(previous=str(previous), carried=(), already=True)
    if not home.is_dir():
        raise ReplaceError(f"{home} does not exist; nothing to replace")
    product, pack_level = pack_facts(pack)
    have = (home / "updates" / "product.txt").read_text(encoding="utf-8").strip()
    if product != have:
        raise ReplaceError(f"{pack.name} holds {product}, but {home} is {have}")
    if pack_level != level:
        raise ReplaceError(f"{pack.name} is at update level {pack_level}, not {level}; "
                           "rebuild the updated pack")
    prune_previous(home, plan_id)
    if staging.exists():
        shutil.rmtree(staging)
    try:
        extract_zip(pack, staging, strip=pack_top(pack))
        carried = [rel for rel in CARRIED if _copy_over(home, staging, rel)]
        for name in sorted(set(patches)):
            if _copy_over(home, staging, f"{PATCHES}/{name}"):
                carried.append(f"{PATCHES}/{name}")
        home.rename(previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        staging.rename(home)
    except BaseException:
        previous.rename(home)
        raise
    _fsync_dir(home.parent)
    return ReplaceResult(previous=str(previous), carried=tuple(carried))


def swap_back(home: Path, plan_id: str) -> str:
    """Undo `replace_home` of `plan_id`: the new home becomes `<home>.failed-<plan id>` and
    the previous one returns. Idempotent; returns a message."""
    previous = _sibling(home, "previous", plan_id)
    if not previous.is_dir():
        return f"no {previous.name} to swap back; {home} is unchanged"
    failed = _sibling(home, "failed", plan_id)
    if home.exists():
        if failed.exists():
            shutil.rmtree(failed)
        home.rename(failed)
    previous.rename(home)
    _fsync_dir(home.parent)
    return f"swapped {previous.name} back into place (the new home is kept as {failed.name})"
