"""The updates folder indexed by what each package's descriptor says, not by its file name.

Real file names are not to be trusted (a file named …-8000 can carry update 2000), so
every ``*.zip`` in the folder is opened and its descriptor read; a name that disagrees
with the descriptor is kept as a note the plan shows. Packages are cached per process by
path, size, mtime and inode, so a plan reads each package's descriptor once.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from providers.product.artifact_files import artifact_names, artifact_stamp
from providers.product.descriptors import (
    Descriptor,
    DescriptorError,
    PackageLayout,
    ProductChanges,
    read_package,
)

NAME_RE = re.compile(r"^WSO2-CARBON-UPDATE-(?P<kernel>[0-9][0-9A-Za-z._-]*)-(?P<num>\d{4,})\.zip$")


class IndexedPackage(BaseModel):
    """One readable package of an updates folder."""

    model_config = ConfigDict(frozen=True)

    path: str
    layout: PackageLayout
    descriptor: Descriptor

    @property
    def number(self) -> int:
        """The update number its descriptor gives."""
        return self.descriptor.number

    def name_note(self) -> str | None:
        """A line when the file name disagrees with the descriptor, else None."""
        name = PurePosixPath(self.path).name
        m = NAME_RE.match(name)
        d = self.descriptor
        if m is None:
            return (f"{name} is not named WSO2-CARBON-UPDATE-<kernel>-<NNNN>.zip; its descriptor "
                    f"says update {d.update_number} for kernel {d.platform_version}")
        if int(m["num"]) != d.number or m["kernel"] != d.platform_version:
            return (f"{name} carries update {d.update_number} for kernel {d.platform_version} "
                    "(its descriptor is trusted, not its name)")
        return None


class ProductUpdates(BaseModel):
    """The packages of an updates folder that apply to one product, by update number."""

    model_config = ConfigDict(frozen=True)

    folder: str
    product: str
    levels: dict[int, IndexedPackage]
    problems: tuple[str, ...] = ()

    def changes(self, level: int) -> ProductChanges | None:
        """What `level` does to this product's homes, None when no package offers it."""
        found = self.levels.get(level)
        return found.descriptor.for_product(self.product) if found is not None else None

    @property
    def highest(self) -> int:
        """The highest level offered; -1 when none."""
        return max(self.levels, default=-1)

    @property
    def platform_version(self) -> str | None:
        """The kernel version the product's packages are for (the newest package's)."""
        return self.levels[self.highest].descriptor.platform_version if self.levels else None


_CACHE: dict[tuple[str, int, int, int], IndexedPackage | str] = {}


def read_indexed(path: Path) -> IndexedPackage | str:
    """The package at `path`, or the one-line reason it cannot be used (cached)."""
    key = artifact_stamp(path)
    if key is None:
        return f"{path.name}: cannot be read; check the updates folder"
    found = _CACHE.get(key)
    if found is None:
        try:
            layout, descriptor = read_package(path)
            found = IndexedPackage(path=str(path), layout=layout, descriptor=descriptor)
        except DescriptorError as exc:
            found = str(exc)
        if len(_CACHE) > 50_000:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def index_updates(folder: Path, product: str) -> ProductUpdates:
    """Index the ``*.zip`` packages of `folder` that apply to `product` (``wso2am-4.2.0``,
    matched against each descriptor's compatible and partially applicable products).

    Unreadable packages and two packages claiming one level are reported in `problems`
    (the level is then left out, so a plan that needs it says why). Never raises.
    """
    levels: dict[int, IndexedPackage] = {}
    problems: list[str] = []
    doubled: set[int] = set()
    for name in artifact_names(folder):
        if not name.endswith(".zip"):
            continue
        found = read_indexed(folder / name)
        if isinstance(found, str):
            if NAME_RE.match(name):
                problems.append(found)
            continue
        if found.descriptor.for_product(product) is None:
            continue
        earlier = levels.get(found.number)
        if earlier is not None:
            doubled.add(found.number)
            problems.append(f"{PurePosixPath(earlier.path).name} and {name} both carry update "
                            f"{found.descriptor.update_number} for {product}; remove one")
            continue
        levels[found.number] = found
    for number in doubled:
        levels.pop(number, None)
    return ProductUpdates(folder=str(folder), product=product, levels=levels,
                          problems=tuple(problems))
