"""The chain of update levels: what each level changes, its package and its descriptor."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from providers.product.archive import ArchiveError, read_member
from safefs.pathsafety import UnsafePathError, safe_member_name
from testkit.builder_content import (
    LEGACY_LIB,
    UPDATE_TARGETS,
    VELOCITY,
    ProductInfo,
    fake_jar,
    velocity_template,
)
from testkit.builder_zip import Entry, zip_bytes

DESCRIPTOR = "update-descriptor3.yaml"
PAYLOAD = "carbon.home"
PLATFORM_NAME = "carbon"
_PLUGINS = "repository/components/plugins"
_HOTFIX_PREFIX = f"{_PLUGINS}/org.wso2.carbon.apimgt.hotfix.u"
_LICENSE = b"Apache License, Version 2.0 (fixture copy for update packages)\n"


class FileChecksum(BaseModel):
    """A file's checksum before and after a level (None: absent on that side)."""

    model_config = ConfigDict(frozen=True)

    before: str | None
    after: str | None


class UpdateLevel(BaseModel):
    """Everything one update level does to a product home."""

    model_config = ConfigDict(frozen=True)

    number: int
    description: str
    bug_fixes: dict[str, str]
    added: tuple[Entry, ...]
    modified: tuple[Entry, ...]
    removed: tuple[str, ...]
    checksums: dict[str, FileChecksum]


def sha256_ref(data: bytes) -> str:
    """``sha256:<hex>`` of `data`, the checksum format of descriptors."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def update_file_name(version: str, number: int) -> str:
    """``WSO2-CARBON-UPDATE-4.2.0-0014.zip`` for a platform version and level."""
    return f"WSO2-CARBON-UPDATE-{version}-{number:04d}.zip"


def _plan_level(info: ProductInfo, tree: dict[str, Entry], n: int) -> tuple[
        list[Entry], list[Entry], list[str]]:
    """Decide what level `n` adds, modifies and removes, given the tree before it."""
    marker = f"{info.full} update {n:04d}"
    target = UPDATE_TARGETS[(n - 1) % len(UPDATE_TARGETS)]
    modified = [Entry(path=f"{_PLUGINS}/{target}", data=fake_jar(target, marker))]
    if n % 4 == 0:
        modified.append(Entry(path=VELOCITY, data=velocity_template(marker)))
    added: list[Entry] = []
    if n % 2 == 0:
        name = f"{_HOTFIX_PREFIX}{n:04d}_9.28.116.jar"
        added.append(Entry(path=name, data=fake_jar(name.rsplit("/", 1)[1], marker)))
    if n % 3 == 0:
        name = f"wso2-fixlib-u{n:04d}_1.0.0.jar"
        added.append(Entry(path=f"repository/components/lib/{name}",
                           data=fake_jar(name, marker)))
    removed: list[str] = []
    if n % 5 == 0:
        hotfixes = sorted(p for p in tree if p.startswith(_HOTFIX_PREFIX))
        removed += hotfixes[:1]
    if n == 7 and LEGACY_LIB in tree:
        removed.append(LEGACY_LIB)
    return added, modified, removed


def update_chain(info: ProductInfo, base: dict[str, Entry], upto: int) -> list[UpdateLevel]:
    """Levels 1..`upto` for a home whose files are `base`; each level's `before`
    checksums are the files as levels 1..N-1 left them. Does not modify `base`."""
    tree = dict(base)
    levels: list[UpdateLevel] = []
    for n in range(1, upto + 1):
        added, modified, removed = _plan_level(info, tree, n)
        checksums: dict[str, FileChecksum] = {}
        for entry in added:
            checksums[entry.path] = FileChecksum(before=None, after=sha256_ref(entry.data))
        for entry in modified:
            checksums[entry.path] = FileChecksum(before=sha256_ref(tree[entry.path].data),
                                                 after=sha256_ref(entry.data))
            tree[entry.path] = entry.model_copy(
                update={"executable": tree[entry.path].executable})
        for path in removed:
            checksums[path] = FileChecksum(before=sha256_ref(tree.pop(path).data), after=None)
        tree.update({e.path: e for e in added})
        components = ", ".join(e.path.rsplit("/", 1)[1] for e in modified)
        levels.append(UpdateLevel(
            number=n,
            description=f"{info.display} {info.version} update {n:04d}: fixes in {components}",
            bug_fixes={f"APIMINTERNAL-{1000 + n}": f"Fix in {components}"},
            added=tuple(added), modified=tuple(modified), removed=tuple(removed),
            checksums=dict(sorted(checksums.items()))))
    return levels


def descriptor(info: ProductInfo, level: UpdateLevel) -> bytes:
    """The ``update-descriptor3.yaml`` bytes of `level` (keys as DESIGN §6)."""
    doc = {
        "update_number": f"{level.number:04d}",
        "platform_version": info.version,
        "platform_name": PLATFORM_NAME,
        "description": level.description,
        "bug_fixes": dict(level.bug_fixes),
        "compatible_products": [{
            "product_name": info.product,
            "product_version": info.version,
            "added_files": [e.path for e in level.added],
            "modified_files": [e.path for e in level.modified],
            "removed_files": list(level.removed),
        }],
        "checksums": {path: {"before": c.before, "after": c.after}
                      for path, c in level.checksums.items()},
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).encode()


def update_package(info: ProductInfo, level: UpdateLevel) -> bytes:
    """The zip bytes of `level`: descriptor, LICENSE.txt and carbon.home/<changed files>."""
    entries = [Entry(path=DESCRIPTOR, data=descriptor(info, level)),
               Entry(path="LICENSE.txt", data=_LICENSE)]
    entries += [e.model_copy(update={"path": f"{PAYLOAD}/{e.path}"})
                for e in (*level.added, *level.modified)]
    return zip_bytes(entries)


def _rel(path: str, package: Path) -> str:
    try:
        return safe_member_name(path, archive=str(package)).as_posix()
    except UnsafePathError as exc:
        raise ArchiveError(str(exc)) from exc


def apply_package(tree: dict[str, Entry], package: Path, info: ProductInfo) -> None:
    """Apply the update package at `package` to the in-memory home `tree`, in place.

    A minimal installer for building packs at a level. Raises ValueError (ArchiveError
    for bad archives) when the package is for another product or a file's current
    checksum is not the descriptor's `before` (a conflict).
    """
    doc = yaml.safe_load(read_member(package, DESCRIPTOR))
    products = [p for p in doc.get("compatible_products") or []
                if p.get("product_name") == info.product
                and str(p.get("product_version")) == info.version]
    if not products:
        raise ValueError(f"{package}: not an update for {info.full}; "
                         "point updates_dir at that product's updates")
    for raw, sums in (doc.get("checksums") or {}).items():
        path = _rel(raw, package)
        current = sha256_ref(tree[path].data) if path in tree else None
        if current != sums.get("before"):
            raise ValueError(f"{package}: {path} is {current or 'absent'}, the update "
                             f"expects {sums.get('before') or 'absent'}; levels out of order?")
    product = products[0]
    sums_by_path = {_rel(raw, package): sums for raw, sums in
                    (doc.get("checksums") or {}).items()}
    for raw in [*product.get("added_files", []), *product.get("modified_files", [])]:
        path = _rel(raw, package)
        data = read_member(package, f"{PAYLOAD}/{path}", max_size=64 * 1024**2)
        if sha256_ref(data) != sums_by_path.get(path, {}).get("after"):
            raise ValueError(f"{package}: {PAYLOAD}/{path} does not match its 'after' "
                             "checksum; rebuild the update package")
        executable = tree[path].executable if path in tree else path.endswith(".sh")
        tree[path] = Entry(path=path, data=data, executable=executable)
    for raw in product.get("removed_files", []):
        tree.pop(_rel(raw, package), None)
