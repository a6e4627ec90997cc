"""The archives a server's home was built from, replicated with its snapshots.

When a server's runtime is backed up, the pack its product declares, the update package
of every level above the pack's up to the home's level, and the archive of every patch
folder in the home are stored content-addressed in the repository beside the snapshot
(`providers.repositories.artifacts`) before the snapshot's manifest is written, and the
snapshot's source facts name each one (`artifacts`: kind, file name, sha256, size, and the
level or patch it brings). A copy of the snapshot brings the artifacts it names first.
So every snapshot's repository holds everything a rebuild from it needs, and a recovery
at another site never reads the folders of the lost one. A `strategy: replace` server
ran from the updated pack of its level (`<pack stem>-level<N>.zip`): that pack is the one
replicated (recording that it installs level N), not the pack and the update packages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from providers.repositories.artifacts import (
    ArtifactKind,
    ArtifactStore,
    DigestCache,
    file_digest,
)
from providers.repositories.base import Repository
from providers.repositories.manifest import Manifest


def _wanted(sources: Mapping[str, Any], level: int | None,
            patches: list[str]) -> tuple[list[tuple[ArtifactKind, Path, dict[str, Any]]],
                                         list[str], dict[str, Any]]:
    """(kind, path, identity) of every archive the home needs, what cannot be found, and
    what the pack says of itself (its update level, the kernel it runs on)."""
    from providers.product.archive import ArchiveError
    from providers.product.install import product_pack_facts

    wanted: list[tuple[ArtifactKind, Path, dict[str, Any]]] = []
    # (each archive is hashed once, when it is stored; a missing one is named instead)
    missing: list[str] = []
    pack = Path(sources["pack"])
    try:
        facts = product_pack_facts(pack, Path(sources["updates"]) if sources.get("updates")
                                   else None)
    except (ArchiveError, OSError) as exc:
        return [], [f"pack: {exc}"], {"pack_update_level": -1}
    updated = _updated_pack(sources, pack, level, facts.update_level)
    if updated is not None:  # `strategy: replace`: the home ran from the updated pack
        wanted.append(("pack", updated, {"update_level": level}))
    else:
        wanted.append(("pack", pack, {"update_level": facts.update_level}))
    base = level if updated is not None and level is not None else facts.update_level
    for n in range(max(base, 0) + 1, (level if level is not None else -1) + 1):
        found = facts.packages.get(n)
        if found is None:
            missing.append(f"update level {n}: no package for it in {sources.get('updates')}")
        else:
            wanted.append(("update", Path(found), {"level": n}))
    archives = Path(sources.get("patches") or ".")
    ids: Mapping[str, str] = sources.get("patch_ids") or {}
    for pdir in patches:
        pid = ids.get(pdir)
        if pid:
            wanted.append(("patch", archives / f"{pid}.zip", {"patch_id": pid,
                                                              "patch_dir": pdir}))
        else:
            missing.append(f"patch {pdir}: no declared patch id names it")
    return wanted, missing, {"pack_update_level": base,
                             "platform_version": facts.platform_version}


def _updated_pack(sources: Mapping[str, Any], pack: Path, level: int | None,
                  pack_level: int) -> Path | None:
    """For a `strategy: replace` server above its pack's level: the updated pack of that
    level beside the pack (`<stem>-level<N>.zip`, as a replacement installs it), when it
    is there and installs that level; else None (the home was built from the pack and
    the update packages)."""
    from providers.product.archive import ArchiveError
    from providers.product.install import pack_facts
    from providers.product.replace import level_pack

    if sources.get("strategy") != "replace" or level is None or level <= pack_level:
        return None
    updated = Path(level_pack(pack, level))
    try:
        return updated if pack_facts(updated)[1] == level else None
    except (ArchiveError, OSError):
        return None


def store_server_artifacts(repo: Repository, sources: Mapping[str, Any], level: int | None,
                           patches: list[str],
                           progress: Callable[[str], None] = lambda _m: None, *,
                           digests: DigestCache | None = None) -> dict[str, Any]:
    """Store in `repo` every archive a home at `level` with `patches` was built from.

    `sources` is what the backup planner passes (`pack`, `updates`, `patches` folders,
    `platform_version`, `patch_ids`). Returns the facts to add to the snapshot's source:
    `artifacts` (the references) and, when some archive is not where the spec says,
    `artifacts_missing` (one line each; a recovery names them). `digests` caches the
    archives' hashes across the servers of one run. Raises RepositoryError.
    """
    wanted, missing, pack = _wanted(sources, level, patches)
    store = ArtifactStore(repo)
    refs: list[dict[str, Any]] = []
    for kind, path, identity in wanted:
        try:
            digest, size = file_digest(path, digests)
        except OSError as exc:
            what = f"update level {identity['level']}" if kind == "update" else \
                f"patch {identity['patch_dir']}" if kind == "patch" else "pack"
            missing.append(f"{what}: {path}: {exc.strerror or exc}")
            continue
        info, stored = store.put_file(path, kind=kind, sha256=digest)
        if stored:
            progress(f"{repo.name}: stored {kind} {path.name} ({size} bytes)")
        refs.append({"kind": kind, "name": path.name, "sha256": info.sha256,
                     "size": info.size, **identity})
    for line in missing:
        progress(f"{repo.name}: not replicated: {line}")
    facts: dict[str, Any] = {"artifacts": refs, **pack}
    if missing:
        facts["artifacts_missing"] = missing
    return facts


def copy_snapshot_artifacts(dest: Repository, source: Repository, manifest: Manifest) -> int:
    """Copy every artifact `manifest` names from `source` to `dest` (verified there), before
    the snapshot itself is copied. Returns how many were copied now. Raises
    RepositoryError (one is missing at the source) or IntegrityError."""
    here, there = ArtifactStore(dest), ArtifactStore(source)
    copied = 0
    for ref in manifest.source.facts.get("artifacts") or []:
        if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
            copied += int(here.copy_from(there, ref["sha256"])[1])
    return copied
