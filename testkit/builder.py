"""Builds fake-but-faithful product packs, update packages and patch archives (DESIGN §6).

One builder serves the demo, the tests and the benchmarks. Everything it writes is a real
file in the real format, byte-for-byte identical for identical inputs, so the real
installers can install, update and patch it exactly as they would a WSO2 product:

>>> world = build_world(Path("/tmp/world"))  # doctest: +SKIP
>>> home = install_home(world.pack, Path("/tmp/world/primary/opt/wso2am-4.2.0"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from providers.product.archive import ArchiveError, extract_zip, inspect_zip
from testkit.builder_content import (
    EMPTY_DIRS,
    KERNEL,
    PATCH_TARGETS,
    ProductInfo,
    base_files,
    config_json,
    fake_jar,
    product_info,
)
from testkit.builder_evil import EVIL_KINDS, build_evil_zip, corrupt
from testkit.builder_updates import (
    apply_package,
    update_chain,
    update_file_name,
    update_package,
)
from testkit.builder_zip import Entry, write_atomic, zip_bytes

__all__ = [
    "EVIL_KINDS", "WorldPaths", "build_evil_zip", "build_pack", "build_patch",
    "build_updates", "build_world", "corrupt", "install_home", "pack_file_name",
    "patch_name", "update_file_name",
]


class WorldPaths(BaseModel):
    """Where `build_world` put everything."""

    model_config = ConfigDict(frozen=True)

    root: Path
    packs: Path
    updates: Path
    patches: Path
    pack: Path
    update_files: tuple[Path, ...]
    patch_files: tuple[Path, ...]
    product: str
    version: str


def pack_file_name(product: str, version: str, level: int = -1) -> str:
    """``wso2am-4.2.0.zip``, or ``wso2am-4.2.0-level14.zip`` for a pack at a level."""
    suffix = f"-level{level}" if level >= 1 else ""
    return f"{product}-{version}{suffix}.zip"


def patch_name(kernel: str, number: int) -> str:
    """``WSO2-CARBON-PATCH-4.2.0-0005``: the patch id, archive stem and top folder."""
    return f"WSO2-CARBON-PATCH-{kernel}-{number:04d}"


def _pack_bytes(info: ProductInfo, files: dict[str, Entry]) -> bytes:
    top = info.full
    entries = [e.model_copy(update={"path": f"{top}/{e.path}"}) for e in files.values()]
    return zip_bytes(entries, empty_dirs=[f"{top}/{d}" for d in EMPTY_DIRS])


def build_pack(out_dir: Path, product: str = "wso2am", version: str = "4.2.0", *,
               level: int = -1, updates_dir: Path | None = None) -> Path:
    """Write the product pack zip (top folder ``<product>-<version>/``) into `out_dir`.

    With `level` >= 1 the pack is built at that update level: the packages 1..level are
    read from `updates_dir` and applied (checksums verified), or, when `updates_dir` is
    None, the same levels are generated in memory. Returns the pack path
    (see `pack_file_name`). Raises ValueError for bad names or a package that does not
    apply, ArchiveError for an unreadable package.
    """
    info = product_info(product, version)
    files = base_files(info)
    if level >= 1:
        if updates_dir is None:
            for step in update_chain(info, files, level):
                files.update({e.path: e for e in (*step.added, *step.modified)})
                for path in step.removed:
                    files.pop(path)
        else:
            for number in range(1, level + 1):
                apply_package(files, updates_dir / update_file_name(version, number), info)
        files["updates/config.json"] = Entry(path="updates/config.json",
                                             data=config_json(level))
    out = out_dir / pack_file_name(product, version, level)
    write_atomic(out, _pack_bytes(info, files))
    return out


def build_updates(out_dir: Path, product: str = "wso2am", version: str = "4.2.0",
                  levels: Iterable[int] = range(1, 15)) -> list[Path]:
    """Write ``WSO2-CARBON-UPDATE-<version>-<NNNN>.zip`` for each of `levels`.

    Levels chain from the base pack of the same product and version, so level N's
    `before` checksums are the files as levels 1..N-1 left them. Returns the paths in
    the order of `levels`. Raises ValueError for a level below 1 or bad names.
    """
    wanted = list(levels)
    if any(n < 1 for n in wanted):
        raise ValueError(f"update levels start at 1, got {sorted(wanted)[0]}")
    info = product_info(product, version)
    chain = update_chain(info, base_files(info), max(wanted, default=0))
    out: list[Path] = []
    for number in wanted:
        path = out_dir / update_file_name(version, number)
        write_atomic(path, update_package(info, chain[number - 1]))
        out.append(path)
    return out


def _patch_jar_names(number: int, jars: int) -> list[str]:
    names = [PATCH_TARGETS[(number + i) % len(PATCH_TARGETS)]
             for i in range(min(jars, len(PATCH_TARGETS)))]
    names += [f"org.wso2.carbon.patch{number:04d}.extra{i}_{KERNEL}.jar"
              for i in range(len(PATCH_TARGETS), jars)]
    return names


def build_patch(out_dir: Path, kernel: str = "4.2.0", number: int = 5, *, jars: int = 2,
                resources: bool = True) -> Path:
    """Write ``WSO2-CARBON-PATCH-<kernel>-<NNNN>.zip`` into `out_dir`; return its path.

    Holds ``<id>/patchNNNN/*.jar`` (`jars` plugin jars with patched content),
    ``<id>/resources/`` with one file when `resources`, and ``<id>/README.txt``.
    Raises ValueError when `number` is not 1..9999 or `jars` is below 1.
    """
    if not 1 <= number <= 9999 or jars < 1:
        raise ValueError(f"patch number must be 1..9999 and jars >= 1 (got {number}, {jars})")
    product_info("carbon", kernel)  # validates the kernel string
    pid = patch_name(kernel, number)
    folder = f"patch{number:04d}"
    entries = [Entry(path=f"{pid}/{folder}/{name}", data=fake_jar(name, pid))
               for name in _patch_jar_names(number, jars)]
    readme = (f"Patch ID: {pid}\nApplies to: WSO2 Carbon {kernel} based products\n\n"
              f"Installation:\n 1. Stop the server.\n 2. Copy {folder} to "
              "<CARBON_HOME>/repository/components/patches/.\n 3. Start the server.\n")
    entries.append(Entry(path=f"{pid}/README.txt", data=readme.encode()))
    if resources:
        entries.append(Entry(path=f"{pid}/resources/{folder}.properties",
                             data=f"patch.id={pid}\n".encode()))
    out = out_dir / f"{pid}.zip"
    write_atomic(out, zip_bytes(entries))
    return out


def install_home(pack: Path, dest_home: Path) -> Path:
    """Unpack `pack` into the new product home `dest_home`, dropping its top folder.

    Returns `dest_home`. Raises ArchiveError for an unsafe or corrupt pack, one without
    a single top folder, or a `dest_home` that exists and is not empty.
    """
    tops = {PurePosixPath(m.name).parts[0] for m in inspect_zip(pack)}
    if len(tops) != 1:
        raise ArchiveError(f"{pack}: a pack must hold exactly one top folder, found "
                           f"{', '.join(sorted(tops)) or 'none'}")
    extract_zip(pack, dest_home, strip=tops.pop())
    return dest_home


def build_world(root: Path, *, product: str = "wso2am", version: str = "4.2.0",
                levels: int = 14, patches: Iterable[int] = (1, 2, 3, 4, 5)) -> WorldPaths:
    """Build ``root/packs``, ``root/updates`` and ``root/patches`` with everything.

    Idempotent: files that already hold the right bytes are left alone, so re-running
    on an existing world only re-computes bytes in memory. Returns the paths.
    """
    info = product_info(product, version)
    packs, updates, patch_dir = root / "packs", root / "updates", root / "patches"
    files = base_files(info)
    pack = packs / pack_file_name(product, version)
    write_atomic(pack, _pack_bytes(info, files))
    update_files: list[Path] = []
    for step in update_chain(info, files, levels):
        path = updates / update_file_name(version, step.number)
        write_atomic(path, update_package(info, step))
        update_files.append(path)
    updates.mkdir(parents=True, exist_ok=True)
    patch_files = tuple(build_patch(patch_dir, version, n) for n in patches)
    patch_dir.mkdir(parents=True, exist_ok=True)
    return WorldPaths(root=root, packs=packs, updates=updates, patches=patch_dir, pack=pack,
                      update_files=tuple(update_files), patch_files=patch_files,
                      product=product, version=version)
