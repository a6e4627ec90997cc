"""Pack replacement: unpack the updated pack beside a home, carry runtime data over, swap.

The updated pack is the product pack at the target level, found beside the product's
`pack` as `<pack stem>-level<N>.zip` (`wso2am-4.2.0.zip` -> `wso2am-4.2.0-level14.zip`).
It is unpacked into `<home>.next-<plan id>`, the runtime data (`CARRIED`, and the declared
patch folders) is copied over from the current home, and the two are swapped by rename so
the home path stays the same: the old home becomes `<home>.previous-<plan id>` and is kept
for rollback (`swap_back`) until the next replacement of that home succeeds. The pack is
read on the controller and streamed to the host; copies and swaps happen on the host.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePath, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from providers.hosts.base import Transport
from providers.hosts.paths import exists, inside, is_dir, is_file, read_text, stage_tree
from providers.product.install import pack_facts, pack_top
from providers.product.updates import LEVEL_FILE, read_level, write_level
from providers.product.ziptar import write_zip_tar

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


def _sibling(home: PurePosixPath, what: str, plan_id: str) -> PurePosixPath:
    return home.with_name(f"{home.name}.{what}-{plan_id}")


def previous_home(home: PurePosixPath, plan_id: str) -> PurePosixPath:
    """Where `replace_home` of `plan_id` keeps the old home: `<home>.previous-<plan id>`."""
    return _sibling(home, "previous", plan_id)


def _copy_over(t: Transport, src_home: PurePosixPath, dst_home: PurePosixPath,
               rel: str) -> bool:
    """Replace `rel` in `dst_home` with a copy of it from `src_home`; False when absent."""
    src = inside(t, src_home, rel, what=f"{src_home} path")
    dst = inside(t, dst_home, rel, what=f"{dst_home} path")
    if not exists(t, src):
        return False
    t.remove_tree(dst)
    t.mkdir(dst.parent)
    t.copy_tree(src, dst)
    return True


def prune_previous(t: Transport, home: PurePosixPath, keep_plan: str) -> list[str]:
    """Remove `<home>.previous-*` and `<home>.failed-*` left by earlier plans."""
    removed = []
    for prefix in ("previous", "failed"):
        for old in t.list_dir(home.parent):
            if not old.name.startswith(f"{home.name}.{prefix}-") or \
                    old.name.endswith(f"-{keep_plan}") or old.stat.kind != "dir":
                continue
            t.remove_tree(home.parent / old.name)
            removed.append(old.name)
    return removed


def replace_home(t: Transport, home: PurePosixPath, pack: Path, *, level: int,
                 patches: Sequence[str], plan_id: str) -> ReplaceResult:
    """Put the product of `pack` (at `level`) in place of `home`, keeping its runtime data.

    `patches` are the patch folders to carry over (the declared ones). Idempotent for
    one plan id. Raises ReplaceError when the pack is for another product or level,
    ArchiveError for an unsafe or corrupt pack; the home is then unchanged.
    """
    previous, staging = _sibling(home, "previous", plan_id), _sibling(home, "next", plan_id)
    if is_dir(t, previous) and is_dir(t, home) and read_level(t, home) == level:
        return ReplaceResult(previous=str(previous), carried=(), already=True)
    if is_dir(t, previous) and not exists(t, home) and is_dir(t, staging):
        t.rename(staging, home)  # an interrupted swap: finish it
        return ReplaceResult(previous=str(previous), carried=(), already=True)
    if not is_dir(t, home):
        raise ReplaceError(f"{home} does not exist; nothing to replace")
    product, pack_level = pack_facts(pack)
    have = (read_text(t, home / "updates" / "product.txt") or "").strip()
    if product != have:
        raise ReplaceError(f"{pack.name} holds {product}, but {home} is {have}")
    if pack_level != level:
        raise ReplaceError(f"{pack.name} is at update level {pack_level}, not {level}; "
                           "rebuild the updated pack")
    prune_previous(t, home, plan_id)
    t.remove_tree(staging)
    top = pack_top(pack)

    def produce(sink: BinaryIO) -> None:
        write_zip_tar(pack, sink, strip=top)

    staged = stage_tree(t, staging, produce)
    try:
        t.rename(staged, staging)
        carried = [rel for rel in CARRIED if _copy_over(t, home, staging, rel)]
        for name in sorted(set(patches)):
            if _copy_over(t, home, staging, f"{PATCHES}/{name}"):
                carried.append(f"{PATCHES}/{name}")
        if _keep_client_config(t, home, staging, level):
            carried.append(LEVEL_FILE)
        t.rename(home, previous)
    except BaseException:
        t.remove_tree(staged)
        t.remove_tree(staging)
        raise
    try:
        t.rename(staging, home)
    except BaseException:
        t.rename(previous, home)
        raise
    return ReplaceResult(previous=str(previous), carried=tuple(carried))


def _keep_client_config(t: Transport, home: PurePosixPath, staging: PurePosixPath,
                        level: int) -> bool:
    """The update client's `updates/config.json` (account, channel, tokens) goes along
    into the new home, with only its level moved to `level`; False when there is none."""
    old = home / LEVEL_FILE
    if not is_file(t, old):
        return False
    t.write_atomic(staging / LEVEL_FILE, t.read_bytes(old, limit=1 << 20))
    write_level(t, staging, level)
    return True


def swap_back(t: Transport, home: PurePosixPath, plan_id: str) -> str:
    """Undo `replace_home` of `plan_id`: the new home becomes `<home>.failed-<plan id>` and
    the previous one returns. Idempotent; returns a message."""
    previous = _sibling(home, "previous", plan_id)
    if not is_dir(t, previous):
        return f"no {previous.name} to swap back; {home} is unchanged"
    failed = _sibling(home, "failed", plan_id)
    if exists(t, home):
        t.remove_tree(failed)
        t.rename(home, failed)
    t.rename(previous, home)
    return f"swapped {previous.name} back into place (the new home is kept as {failed.name})"
