"""Install one Carbon update level into a home, and read or record the home's level.

A package (DESIGN §6) is untrusted input: it is found by its descriptor in the indexed
updates folder (`package_index`), its descriptor checked against its payload, and the
home's files compared with what they must hold before the level (`level_check`) — all
before the first byte is written to the home. The payload of the product's files is
streamed as tar into a staging folder on the server's host; files then move into the
home one rename each. `updates/config.json` belongs to the update client: only its
`update-level` changes, keeping its type and every other key.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from engine.killpoints import reached_inside
from providers.hosts.base import Transport
from providers.hosts.paths import fresh_sibling, inside, is_file, remove_staging, stage_tree
from providers.product.archive import ArchiveError
from providers.product.artifact_files import artifact_present
from providers.product.descriptors import PAYLOAD
from providers.product.install import LEVEL_FILE, PRODUCT_FILE, pack_facts, pack_top
from providers.product.level_chain import LevelChain, payload_digests
from providers.product.level_check import (
    LevelFiles,
    UpdateError,
    conflicts,
    current_sums,
    level_files,
    refusal,
)
from providers.product.package_index import (
    IndexedPackage,
    ProductUpdates,
    index_updates,
    read_indexed,
)
from providers.product.ziptar import write_zip_tar

__all__ = ["LEVEL_FILE", "LevelResult", "UpdateError", "install_level", "package_path",
           "read_level", "write_level"]



class LevelResult(BaseModel):
    """What installing one level did."""

    model_config = ConfigDict(frozen=True)

    level: int
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    overwritten: tuple[str, ...] = ()
    already: bool = False


def package_path(updates_dir: Path, kernel: str, level: int) -> Path:
    """`<updates_dir>/WSO2-CARBON-UPDATE-<kernel>-<NNNN>.zip`, the name WUM gives a package
    (`kernel` is the Carbon kernel version, e.g. 4.9.0 for wso2am 4.2.0)."""
    return updates_dir / f"WSO2-CARBON-UPDATE-{kernel}-{level:04d}.zip"


def read_level(t: Transport, home: PurePosixPath) -> int:
    """The update level from `updates/config.json`; -1 when absent (never updated).

    Raises ValueError naming the file when it exists but cannot be read.
    """
    path = home / LEVEL_FILE
    if t.stat(path) is None:
        return -1
    try:
        data = json.loads(t.read_bytes(path, limit=1 << 20).decode("utf-8"))
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: unreadable update level ({exc})") from exc
    level = data.get("update-level", -1) if isinstance(data, dict) else -1
    return int(level) if isinstance(level, int | str) and str(level).lstrip("-").isdigit() else -1


def write_level(t: Transport, home: PurePosixPath, level: int) -> None:
    """Record `level` in `updates/config.json` atomically, keeping every other key, the key
    order, the value's type (real files hold a string: `"update-level": "25"`) and an
    indented layout."""
    path = home / LEVEL_FILE
    try:
        text = t.read_bytes(path, limit=1 << 20).decode("utf-8")
        data = json.loads(text)
    except (OSError, ValueError):
        text, data = "", {}
    data = data if isinstance(data, dict) else {}
    old = data.get("update-level")
    data["update-level"] = str(level) if isinstance(old, str) else level
    indent = 2 if "\n " in text or "\n\t" in text else None
    body = json.dumps(data, indent=indent, ensure_ascii=False)
    t.write_atomic(path, (body + ("\n" if text.endswith("\n") or not text else "")).encode())


def _stage(t: Transport, files: LevelFiles, home: PurePosixPath) -> PurePosixPath:
    """Stream the level's payload into a staging folder beside `home` and check every
    file this product gets against the payload digests read at check time; returns the
    folder (removed again when the payload is refused)."""
    package = Path(files.package)
    root = "/".join(p for p in (files.top, PAYLOAD) if p)
    carried: dict[str, str] = {}

    def produce(sink: BinaryIO) -> None:
        carried.update(write_zip_tar(package, sink, only=root, strip=root))

    try:
        staging = stage_tree(t, fresh_sibling(home, f"update-{files.level:04d}"), produce)
    except ArchiveError as exc:
        raise UpdateError(f"update level {files.level}: {exc}") from exc
    for path in (*files.added, *files.modified):
        sums = files.checksums.get(path)
        if path not in carried or (sums is not None and sums.after is not None
                                   and carried[path] != sums.after):
            t.remove_tree(staging)
            raise UpdateError(f"{package.name}: {PAYLOAD}/{path} is missing or changed while "
                              "it was read; the package is refused")
    return staging


def _put(t: Transport, home: PurePosixPath, staged: PurePosixPath, path: str) -> None:
    """Move one staged file over the home's file by rename, keeping the file's mode."""
    target = inside(t, home, path, what=f"{home} file")
    old = t.stat(target)
    if old is not None and old.kind == "file":
        t.chmod(staged, old.mode & 0o777)
    t.mkdir(target.parent)
    t.rename(staged, target)


def home_product(t: Transport, home: PurePosixPath) -> str:
    """The home's product (`updates/product.txt`, no trailing newline in real homes).

    Raises UpdateError when the home has none."""
    path = home / PRODUCT_FILE
    try:
        return t.read_bytes(path, limit=4096).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UpdateError(f"{path} is missing or unreadable; an update level needs the home's "
                          "product name") from exc


def level_chain(pack: Path | None, updates: ProductUpdates) -> LevelChain | None:
    """The expected-content chain from the product `pack` (None without a pack)."""
    if pack is None:
        return None
    try:
        return LevelChain(pack, pack_top(pack), pack_facts(pack)[1], updates)
    except ArchiveError as exc:
        raise UpdateError(f"cannot read the product pack to check for conflicts: {exc}") from exc


def _updates_for(package: Path, product: str) -> tuple[ProductUpdates, IndexedPackage]:
    """The index of `package`'s folder, with `package` itself for its level."""
    updates = index_updates(package.parent, product)
    found = read_indexed(package)
    if isinstance(found, str):
        raise UpdateError(found)
    if found.descriptor.for_product(product) is None:
        names = ", ".join(p.full for p in found.descriptor.products) or "no product"
        raise UpdateError(f"{package.name} is for {names}, not {product} (the home's "
                          f"{PRODUCT_FILE})")
    levels = {**updates.levels, found.number: found}
    return updates.model_copy(update={"levels": levels}), found


def install_level(t: Transport, home: PurePosixPath, package: Path, *, level: int,
                  pack: Path | None = None, product: str | None = None,
                  version: str | None = None, overwrite: bool = False) -> LevelResult:
    """Install update `level` from `package` (on the controller) into `home` on host `t`,
    then record the level.

    The home's own `updates/product.txt` names the product (`product`/`version`, when
    given, must agree with it). With `pack`, each touched file is compared with what the
    pack and the earlier levels' payloads say it holds; without, only with the
    descriptor's `checksums` where it has them. Idempotent: a home already at `level` or
    above is left alone, and files already as the level leaves them are not rewritten.
    Raises UpdateError (nothing written) when the home is not at `level - 1`, the package
    is missing, unsafe, not for the home's product or not for `level`, contradicts its
    payload, or a file conflicts and not `overwrite`.
    """
    now = read_level(t, home)
    if now >= level:
        return LevelResult(level=level, already=True)
    if max(now, 0) != level - 1:
        raise UpdateError(f"{home} is at update level {now}; level {level} needs level "
                          f"{level - 1} first")
    full = home_product(t, home)
    if product is not None and version is not None and full != f"{product}-{version}":
        raise UpdateError(f"{home} holds {full}, not {product}-{version}")
    if not artifact_present(package):
        raise UpdateError(f"update level {level}: {package.name} is missing from "
                          f"{package.parent}; add it to the product's updates folder")
    updates, found = _updates_for(package, full)
    if found.number != level:
        raise UpdateError(f"{package.name} carries update {found.descriptor.update_number}, "
                          f"not level {level}")
    files = level_files(updates, level)
    changes = updates.changes(level)
    assert changes is not None
    try:
        after = {**payload_digests(found, changes), **{p: None for p in files.removed}}
    except ArchiveError as exc:
        raise UpdateError(f"update level {level}: {exc}") from exc
    found_conflicts = conflicts(t, home, files, level_chain(pack, updates), after)
    if found_conflicts and not overwrite:
        raise UpdateError(refusal(level, found_conflicts))
    remove_staging(t, home)  # what a killed run of this level (or an earlier one) staged
    staging = _stage(t, files, home)
    reached_inside("staged")
    try:
        written = []
        for path in (*files.added, *files.modified):
            if after.get(path) in current_sums(t, home, path) and \
                    is_file(t, inside(t, home, path)):
                continue
            _put(t, home, staging / path, path)
            written.append(path)
            if len(written) == 1:
                reached_inside("first-file-in-place")
        removed = []
        for path in files.removed:
            target = inside(t, home, path, what=f"{home} file")
            st = t.stat(target)
            if st is not None and st.kind in ("file", "link"):
                t.remove(target)
                removed.append(path)
    finally:
        t.remove_tree(staging)
    reached_inside("files-in-place")
    write_level(t, home, level)
    return LevelResult(level=level, written=tuple(written), removed=tuple(removed),
                       overwritten=tuple(f.split(":", 1)[0] for f in found_conflicts))
