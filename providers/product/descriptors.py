"""Update package descriptors as WUM and wum-uc write them (DESIGN §6), read from hostile zips.

A package is ``WSO2-CARBON-UPDATE-<kernel>-<NNNN>.zip`` with one top folder (or none, for
hand-made ones) holding ``update-descriptor3.yaml`` (v3), often the older
``update-descriptor.yaml`` (v2) too, and ``carbon.home/<path>`` for each added or modified
file. Both descriptor versions read into one `Descriptor`. Every scalar is read as text
(YAML 1.1 would turn ``update_number: 0327`` into an octal number), aliases are refused,
and size, nesting and the number of listed paths are capped, so a hostile descriptor fails
in one line instead of eating memory.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from yaml import events as ev

from providers.product.archive import ArchiveError, ZipMember, inspect_zip, read_member
from safefs.pathsafety import UnsafePathError, safe_member_name

V3 = "update-descriptor3.yaml"
V2 = "update-descriptor.yaml"
PAYLOAD = "carbon.home"
MAX_DESCRIPTOR = 8 * 1024**2
MAX_DEPTH = 16
MAX_EVENTS = 2_000_000
PARTIAL_KEYS = ("partially_applicable_products", "partial_applicable_products")


class DescriptorError(ValueError):
    """A package or its descriptor cannot be used; the message names the package."""


class FileSums(BaseModel):
    """A file's checksum before and after a level (None: absent on that side), from the
    optional `checksums` key the fixture builder may add; real descriptors have none."""

    model_config = ConfigDict(frozen=True)

    before: str | None = None
    after: str | None = None


class ProductChanges(BaseModel):
    """What a package does to homes of one product (`partial`: a partially applicable
    product, which gets only the files listed for it)."""

    model_config = ConfigDict(frozen=True)

    product_name: str
    product_version: str
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    partial: bool = False

    @property
    def full(self) -> str:
        """``wso2am-4.2.0``, as the home's ``updates/product.txt`` says it."""
        return f"{self.product_name}-{self.product_version}"


class Descriptor(BaseModel):
    """One package's descriptor, whichever version it was written in."""

    model_config = ConfigDict(frozen=True)

    format: Literal[2, 3]
    update_number: str
    platform_version: str
    platform_name: str = ""
    description: str = ""
    instructions: str = ""
    md5sum: str = ""
    bug_fixes: dict[str, str] = {}
    products: tuple[ProductChanges, ...] = ()
    checksums: dict[str, FileSums] = {}

    @property
    def number(self) -> int:
        """The update number as an integer (``"0011"`` -> 11)."""
        return int(self.update_number)

    def for_product(self, product: str) -> ProductChanges | None:
        """The changes for `product` (``wso2am-4.2.0``): a compatible entry first, else a
        partially applicable one; None when the package does not apply to it."""
        found = [p for p in self.products if p.full == product]
        return next((p for p in found if not p.partial), found[0] if found else None)


class PackageLayout(BaseModel):
    """Where a package keeps its parts: top folder ('' for none), descriptor member, and
    the payload files (path relative to the home -> declared size)."""

    model_config = ConfigDict(frozen=True)

    top: str
    descriptor: str
    payload: dict[str, int]

    def member(self, rel: str) -> str:
        """The zip member name of the payload file `rel`."""
        return "/".join(p for p in (self.top, PAYLOAD, rel) if p)


def _check_events(data: bytes, label: str) -> None:
    """Refuse aliases, deep nesting and huge event streams before building anything."""
    depth = count = 0
    try:
        for event in yaml.parse(data.decode("utf-8"), Loader=yaml.BaseLoader):
            count += 1
            if count > MAX_EVENTS:
                raise DescriptorError(f"{label}: more than {MAX_EVENTS} YAML values")
            if isinstance(event, ev.AliasEvent):
                raise DescriptorError(f"{label}: YAML aliases are not allowed in a descriptor")
            if isinstance(event, ev.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise DescriptorError(f"{label}: nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, ev.CollectionEndEvent):
                depth -= 1
    except UnicodeDecodeError as exc:
        raise DescriptorError(f"{label}: not UTF-8 text ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DescriptorError(f"{label}: not valid YAML{where}") from exc


def _text(doc: dict[str, Any], key: str, label: str) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str):
        raise DescriptorError(f"{label}: {key!r} must be text")
    return value.strip()


def _paths(entry: dict[str, Any], key: str, label: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if value == "":
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DescriptorError(f"{label}: {key!r} must be a list of paths")
    out = []
    for raw in value:
        try:
            out.append(safe_member_name(raw.strip(), archive=label).as_posix())
        except UnsafePathError as exc:
            raise DescriptorError(f"{exc}; the package is refused") from exc
    return tuple(out)


def _changes(entry: object, label: str, *, partial: bool) -> ProductChanges:
    if not isinstance(entry, dict):
        raise DescriptorError(f"{label}: a product entry must be a mapping")
    return ProductChanges(
        product_name=_text(entry, "product_name", label),
        product_version=_text(entry, "product_version", label),
        added=_paths(entry, "added_files", label), modified=_paths(entry, "modified_files", label),
        removed=_paths(entry, "removed_files", label), partial=partial)


def _entries(doc: dict[str, Any], key: str, label: str) -> list[object]:
    value = doc.get(key) or []
    if value == "":
        return []
    if not isinstance(value, list):
        raise DescriptorError(f"{label}: {key!r} must be a list of products")
    return value


def _v3_products(doc: dict[str, Any], label: str) -> tuple[ProductChanges, ...]:
    out = [_changes(e, label, partial=False)
           for e in _entries(doc, "compatible_products", label)]
    for key in PARTIAL_KEYS:
        out += [_changes(e, label, partial=True) for e in _entries(doc, key, label)]
    return tuple(out)


def _v2_products(doc: dict[str, Any], label: str) -> tuple[ProductChanges, ...]:
    changes = doc.get("file_changes") or {}
    if not isinstance(changes, dict):
        raise DescriptorError(f"{label}: 'file_changes' must be a mapping")
    out = []
    for item in _text(doc, "applies_to", label).split(","):
        name, _, version = item.strip().rpartition("-")
        if name and version:
            out.append(_changes({"product_name": name, "product_version": version, **changes},
                                label, partial=False))
    return tuple(out)


def _checksums(doc: dict[str, Any], label: str) -> dict[str, FileSums]:
    raw = doc.get("checksums") or {}
    if not isinstance(raw, dict):
        raise DescriptorError(f"{label}: 'checksums' must be a mapping")
    out = {}
    for path, sums in raw.items():
        rel = _paths({"p": [path]}, "p", label)[0]
        sums = sums if isinstance(sums, dict) else {}
        out[rel] = FileSums(**{k: (v if isinstance(v, str) and v not in ("", "null", "~")
                                   else None) for k, v in sums.items() if k in ("before", "after")})
    return out


def parse_descriptor(data: bytes, label: str, fmt: Literal[2, 3]) -> Descriptor:
    """Read descriptor bytes of version `fmt`; `label` names it in errors.

    Raises DescriptorError for bad YAML, aliases, deep nesting, a missing or non-numeric
    `update_number`, a missing `platform_version`, wrongly typed keys or unsafe paths.

    >>> parse_descriptor(b"update_number: 0327\\nplatform_version: 4.9.0\\n", "x", 3).number
    327
    """
    _check_events(data, label)
    doc = yaml.load(data.decode("utf-8"), Loader=yaml.BaseLoader)  # noqa: S506 (BaseLoader)
    if not isinstance(doc, dict):
        raise DescriptorError(f"{label}: the descriptor is not a mapping")
    number = _text(doc, "update_number", label)
    if not number.isdigit() or len(number) > 6:
        raise DescriptorError(f"{label}: update_number {number or '(none)'!r} is not a number")
    platform = _text(doc, "platform_version", label)
    if not platform:
        raise DescriptorError(f"{label}: no platform_version")
    fixes = doc.get("bug_fixes") or {}
    return Descriptor(
        format=fmt, update_number=number, platform_version=platform,
        platform_name=_text(doc, "platform_name", label),
        description=_text(doc, "description", label),
        instructions=_text(doc, "instructions", label) if fmt == 3 else "",
        md5sum=_text(doc, "md5sum", label),
        bug_fixes={str(k): str(v) for k, v in fixes.items()} if isinstance(fixes, dict) else {},
        products=_v3_products(doc, label) if fmt == 3 else _v2_products(doc, label),
        checksums=_checksums(doc, label))


def _layout(package: Path, members: list[ZipMember]) -> tuple[str, str, int]:
    """(top folder or '', descriptor member name, descriptor version)."""
    names = {m.name for m in members if not m.is_dir}
    tops = {PurePosixPath(m.name).parts[0] for m in members}
    candidates = [""] + sorted(tops)[:1] if len(tops) == 1 else [""]
    for top in candidates:
        for name, fmt in ((V3, 3), (V2, 2)):
            member = f"{top}/{name}" if top else name
            if member in names:
                return top, member, fmt
    raise DescriptorError(f"{package.name} holds no {V3} or {V2} at its top or in its single "
                          "top folder; it is not an update package")


def read_package(package: Path) -> tuple[PackageLayout, Descriptor]:
    """Check every member of `package`, find its descriptor and payload, read the descriptor
    (v3 preferred over v2).

    Raises DescriptorError naming the package when it is unreadable, unsafe (absolute
    paths, ``..``, links, special files) or its descriptor is unusable.
    """
    try:
        members = inspect_zip(package)
        top, member, fmt = _layout(package, members)
        data = read_member(package, member, max_size=MAX_DESCRIPTOR)
    except ArchiveError as exc:
        raise DescriptorError(str(exc)) from exc
    prefix = f"{top}/{PAYLOAD}/" if top else f"{PAYLOAD}/"
    payload = {m.name[len(prefix):]: m.size for m in members
               if not m.is_dir and m.name.startswith(prefix)}
    doc = parse_descriptor(data, f"{package.name}: {PurePosixPath(member).name}", fmt)
    return PackageLayout(top=top, descriptor=member, payload=payload), doc
