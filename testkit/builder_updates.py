"""The chain of update levels: what each level changes, its package and its descriptors.

Packages are laid out as WUM and wum-uc ship them (DESIGN §6): ``WSO2-CARBON-UPDATE-
<kernel>-<NNNN>.zip`` holding one top folder of that name with ``update-descriptor3.yaml``,
the older ``update-descriptor.yaml``, ``LICENSE.txt``, ``NOT_A_CONTRIBUTION.txt`` and
``carbon.home/<path>`` per added or modified file. Descriptors carry no per-file
checksums unless asked (`checksums=True` adds the `checksums` key some tools write).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from providers.product.archive import ArchiveError, read_member
from providers.product.descriptors import DescriptorError, read_package
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
DESCRIPTOR_V2 = "update-descriptor.yaml"
PAYLOAD = "carbon.home"
PLATFORM_NAMES = {"4.2": "turing", "4.3": "perlis", "4.4": "wilkes", "4.5": "wilkes",
                  "4.6": "wilkes", "4.8": "wilkes", "4.9": "wilkes"}
_PLUGINS = "repository/components/plugins"
_HOTFIX_PREFIX = f"{_PLUGINS}/org.wso2.carbon.apimgt.hotfix.u"
_LICENSE = b"Apache License, Version 2.0 (fixture copy for update packages)\n"
_NOT_A_CONTRIBUTION = (b"This update is not a contribution to the project; it is licensed "
                       b"under the terms in LICENSE.txt (fixture copy).\n")
PARTIAL_PRODUCT = ("wso2is-km", "5.10.0")
"""Another product some levels partially apply to (a subset of their files)."""
MISSPELT_LEVELS = frozenset({10})
"""Levels whose descriptor spells the key `partial_applicable_products`, as some real ones do."""


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


def update_name(kernel: str, number: int) -> str:
    """``WSO2-CARBON-UPDATE-4.9.0-0014``: the package's stem and top folder."""
    return f"WSO2-CARBON-UPDATE-{kernel}-{number:04d}"


def update_file_name(kernel: str, number: int) -> str:
    """``WSO2-CARBON-UPDATE-4.9.0-0014.zip`` for a Carbon kernel version and level."""
    return f"{update_name(kernel, number)}.zip"


def _instructions(n: int) -> str:
    if n % 4:
        return ""
    return ("Shut down the server before applying this update.\n"
            f"{VELOCITY} changes: re-publish the APIs of every tenant so the gateway uses "
            "the new template.")


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


def _product_entry(product: str, version: str, added: list[str], modified: list[str],
                   removed: list[str]) -> dict[str, object]:
    return {"product_name": product, "product_version": version, "added_files": added,
            "modified_files": modified, "removed_files": removed}


def descriptor(info: ProductInfo, level: UpdateLevel, *, checksums: bool = False) -> bytes:
    """The ``update-descriptor3.yaml`` bytes of `level` (keys as wum-uc writes them).

    Even levels partially apply to `PARTIAL_PRODUCT` (their first modified file); the
    levels in `MISSPELT_LEVELS` spell that key as some real descriptors do.
    """
    added, modified = [e.path for e in level.added], [e.path for e in level.modified]
    entry = _product_entry(info.product, info.version, added, modified, list(level.removed))
    partial = ([_product_entry(*PARTIAL_PRODUCT, [], modified[:1], [])]
               if level.number % 2 == 0 else [])
    lists = json.dumps([entry, *partial], sort_keys=True).encode()
    doc: dict[str, object] = {
        "update_number": f"{level.number:04d}",
        "platform_version": info.kernel,
        "platform_name": PLATFORM_NAMES.get(info.kernel.rsplit(".", 1)[0], "wilkes"),
        "md5sum": hashlib.md5(lists, usedforsecurity=False).hexdigest(),
        "description": level.description,
        "instructions": _instructions(level.number),
        "bug_fixes": dict(level.bug_fixes),
        "compatible_products": [entry],
        ("partial_applicable_products" if level.number in MISSPELT_LEVELS
         else "partially_applicable_products"): partial,
    }
    if checksums:
        doc["checksums"] = {path: {"before": c.before, "after": c.after}
                            for path, c in level.checksums.items()}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).encode()


def descriptor_v2(info: ProductInfo, level: UpdateLevel) -> bytes:
    """The older ``update-descriptor.yaml`` (v2) that packages usually carry too."""
    doc = {
        "update_number": f"{level.number:04d}",
        "platform_version": info.kernel,
        "platform_name": PLATFORM_NAMES.get(info.kernel.rsplit(".", 1)[0], "wilkes"),
        "applies_to": f"{info.full}",
        "bug_fixes": dict(level.bug_fixes),
        "description": level.description,
        "file_changes": {"added_files": [e.path for e in level.added],
                         "removed_files": list(level.removed),
                         "modified_files": [e.path for e in level.modified]},
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).encode()


def update_package(info: ProductInfo, level: UpdateLevel, *, top: bool = True,
                   checksums: bool = False, v2: bool = True) -> bytes:
    """The zip bytes of `level`: descriptors, LICENSE.txt, NOT_A_CONTRIBUTION.txt and
    carbon.home/<changed files>, inside one top folder named like the package unless
    `top` is False (a hand-made package)."""
    entries = [Entry(path=DESCRIPTOR, data=descriptor(info, level, checksums=checksums)),
               Entry(path="LICENSE.txt", data=_LICENSE),
               Entry(path="NOT_A_CONTRIBUTION.txt", data=_NOT_A_CONTRIBUTION)]
    if v2:
        entries.append(Entry(path=DESCRIPTOR_V2, data=descriptor_v2(info, level)))
    entries += [e.model_copy(update={"path": f"{PAYLOAD}/{e.path}"})
                for e in (*level.added, *level.modified)]
    if top:
        root = update_name(info.kernel, level.number)
        entries = [e.model_copy(update={"path": f"{root}/{e.path}"}) for e in entries]
    return zip_bytes(entries)


def apply_package(tree: dict[str, Entry], package: Path, info: ProductInfo) -> None:
    """Apply the update package at `package` to the in-memory home `tree`, in place.

    A minimal installer for building packs at a level; it reads the package the way
    drydock does (top folder or none, v3 or v2 descriptor). Raises ValueError
    (ArchiveError for bad archives) when the package is not for `info`'s product or,
    where the descriptor has `checksums`, a file's content is not what it expects.
    """
    try:
        layout, doc = read_package(package)
    except DescriptorError as exc:
        raise ArchiveError(str(exc)) from exc
    changes = doc.for_product(info.full)
    if changes is None:
        raise ValueError(f"{package}: not an update for {info.full}; "
                         "point updates_dir at that product's updates")
    for path, sums in doc.checksums.items():
        current = sha256_ref(tree[path].data) if path in tree else None
        if sums.before is not None and current not in (sums.before, sums.after):
            raise ValueError(f"{package}: {path} is {current or 'absent'}, the update "
                             f"expects {sums.before}; levels out of order?")
    for path in (*changes.added, *changes.modified):
        data = read_member(package, layout.member(path), max_size=64 * 1024**2)
        after = doc.checksums[path].after if path in doc.checksums else None
        if after is not None and sha256_ref(data) != after:
            raise ValueError(f"{package}: {PAYLOAD}/{path} does not match its 'after' "
                             "checksum; rebuild the update package")
        executable = tree[path].executable if path in tree else path.endswith(".sh")
        tree[path] = Entry(path=path, data=data, executable=executable)
    for path in changes.removed:
        tree.pop(path, None)
