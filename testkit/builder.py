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
    sign_in_update_client,
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
    "patch_name", "sign_in_update_client", "update_file_name",
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
    kernel: str


def pack_file_name(product: str, version: str, level: int = -1) -> str:
    """``wso2am-4.2.0.zip``, or ``wso2am-4.2.0-level14.zip`` for a pack at a level."""
    suffix = f"-level{level}" if level >= 1 else ""
    return f"{product}-{version}{suffix}.zip"


def patch_name(kernel: str, number: int) -> str:
    """``WSO2-CARBON-PATCH-4.9.0-0005``: the patch id, archive stem and top folder."""
    return f"WSO2-CARBON-PATCH-{kernel}-{number:04d}"


def _pack_bytes(info: ProductInfo, files: dict[str, Entry]) -> bytes:
    top = info.full
    entries = [e.model_copy(update={"path": f"{top}/{e.path}"}) for e in files.values()]
    return zip_bytes(entries, empty_dirs=[f"{top}/{d}" for d in EMPTY_DIRS])


def build_pack(out_dir: Path, product: str = "wso2am", version: str = "4.2.0", *,
               level: int = -1, updates_dir: Path | None = None,
               kernel: str | None = None) -> Path:
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
                apply_package(files, updates_dir / update_file_name(info.kernel, number), info)
        files["updates/config.json"] = Entry(path="updates/config.json",
                                             data=config_json(level, info))
    out = out_dir / pack_file_name(product, version, level)
    write_atomic(out, _pack_bytes(info, files))
    return out


def build_updates(out_dir: Path, product: str = "wso2am", version: str = "4.2.0",
                  levels: Iterable[int] = range(1, 15), *, kernel: str | None = None,
                  top: bool = True, checksums: bool = False) -> list[Path]:
    """Write ``WSO2-CARBON-UPDATE-<kernel>-<NNNN>.zip`` for each of `levels`.

    `kernel` defaults to the Carbon kernel the product runs on (4.9.0 for wso2am 4.2.0).
    Levels chain from the base pack of the same product and version. Packages hold one
    top folder unless `top` is False, and no per-file checksums unless `checksums`.
    Returns the paths in the order of `levels`. Raises ValueError for a level below 1 or
    bad names.
    """
    wanted = list(levels)
    if any(n < 1 for n in wanted):
        raise ValueError(f"update levels start at 1, got {sorted(wanted)[0]}")
    info = product_info(product, version, kernel)
    chain = update_chain(info, base_files(info), max(wanted, default=0))
    out: list[Path] = []
    for number in wanted:
        path = out_dir / update_file_name(info.kernel, number)
        write_atomic(path, update_package(info, chain[number - 1], top=top,
                                          checksums=checksums))
        out.append(path)
    return out


def _patch_jar_names(number: int, jars: int) -> list[str]:
    names = [PATCH_TARGETS[(number + i) % len(PATCH_TARGETS)]
             for i in range(min(jars, len(PATCH_TARGETS)))]
    names += [f"org.wso2.carbon.patch{number:04d}.extra{i}_{KERNEL}.jar"
              for i in range(len(PATCH_TARGETS), jars)]
    return names


def _patch_readme(pid: str, folder: str, kernel: str, others: list[str], script: str) -> str:
    steps = ["Shutdown the server, if you have already started.",
             "Copy the wso2carbon-version.txt file to <CARBON_SERVER>/bin.",
             f"Copy the {folder} to <CARBON_SERVER>/repository/components/patches/"]
    for member in others:
        where = member.rsplit("/", 1)[0]
        steps.append(f"Copy {member.rsplit('/', 1)[1]} from {pid}/{where} to "
                     f"<CARBON_SERVER>/{where}")
    steps.append(f"Restart the server with : sh {script}")
    numbered = "".join(f"({i}) {step}\n\n" for i, step in enumerate(steps, 1))
    return (f"Patch ID         :  {pid}\nApplies To       :  WSO2 CARBON-{kernel}\n"
            f"Associated JIRA  :  https://wso2.org/jira/browse/CARBON-{15000 + int(folder[5:])}"
            "\n\nDESCRIPTION\n-----------\nThis patch provides fixes for the above "
            "mentioned associated JIRAs.\n\nINSTALLATION INSTRUCTIONS\n"
            f"-------------------------\n\n{numbered}")


def build_patch(out_dir: Path, kernel: str = KERNEL, number: int = 5, *, jars: int = 2,
                resources: bool = True) -> Path:
    """Write ``WSO2-CARBON-PATCH-<kernel>-<NNNN>.zip`` into `out_dir`; return its path.

    Laid out as WSO2 ships patches: one top folder ``<id>/`` with LICENSE.txt,
    NOT_A_CONTRIBUTION.txt, README.txt (the installation instructions),
    wso2carbon-version.txt and ``patchNNNN/*.jar`` (`jars` plugin jars); with
    `resources`, also a ``lib/`` jar (and for even numbers a ``repository/conf/`` file)
    whose placement only the README describes. Raises ValueError when `number` is not
    1..9999 or `jars` is below 1.
    """
    if not 1 <= number <= 9999 or jars < 1:
        raise ValueError(f"patch number must be 1..9999 and jars >= 1 (got {number}, {jars})")
    product_info("carbon", kernel)  # validates the kernel string
    pid = patch_name(kernel, number)
    folder = f"patch{number:04d}"
    entries = [Entry(path=f"{pid}/{folder}/{name}", data=fake_jar(name, pid))
               for name in _patch_jar_names(number, jars)]
    others: list[str] = []
    if resources:
        lib = f"lib/org.wso2.carbon.server-{kernel}.{folder}.jar"
        entries.append(Entry(path=f"{pid}/{lib}", data=fake_jar(lib.rsplit("/", 1)[1], pid)))
        others.append(lib)
        if number % 2 == 0:
            conf = "repository/conf/carbon.xml"
            entries.append(Entry(path=f"{pid}/{conf}",
                                 data=f"<Server><!-- {pid} --></Server>\n".encode()))
            others.append(conf)
    entries += [
        Entry(path=f"{pid}/README.txt",
              data=_patch_readme(pid, folder, kernel, others, "api-manager.sh").encode()),
        Entry(path=f"{pid}/LICENSE.txt", data=b"Apache License, Version 2.0 (fixture copy)\n"),
        Entry(path=f"{pid}/NOT_A_CONTRIBUTION.txt",
              data=b"This patch is not a contribution (fixture copy).\n"),
        Entry(path=f"{pid}/wso2carbon-version.txt",
              data=f"WSO2 Carbon Framework v{kernel} ({folder})\n".encode()),
    ]
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
                levels: int = 14, patches: Iterable[int] = (1, 2, 3, 4, 5),
                kernel: str | None = None, checksums: bool = False) -> WorldPaths:
    """Build ``root/packs``, ``root/updates`` and ``root/patches`` with everything, named
    for the product's Carbon kernel (`kernel`, default: the one the product runs on).

    Idempotent: files that already hold the right bytes are left alone, so re-running
    on an existing world only re-computes bytes in memory. Returns the paths.
    """
    info = product_info(product, version, kernel)
    packs, updates, patch_dir = root / "packs", root / "updates", root / "patches"
    files = base_files(info)
    pack = packs / pack_file_name(product, version)
    write_atomic(pack, _pack_bytes(info, files))
    update_files: list[Path] = []
    for step in update_chain(info, files, levels):
        path = updates / update_file_name(info.kernel, step.number)
        write_atomic(path, update_package(info, step, checksums=checksums))
        update_files.append(path)
    updates.mkdir(parents=True, exist_ok=True)
    patch_files = tuple(build_patch(patch_dir, info.kernel, n) for n in patches)
    patch_dir.mkdir(parents=True, exist_ok=True)
    return WorldPaths(root=root, packs=packs, updates=updates, patches=patch_dir, pack=pack,
                      update_files=tuple(update_files), patch_files=patch_files,
                      product=product, version=version, kernel=info.kernel)
