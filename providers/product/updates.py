"""Carbon update packages: read their descriptors, check them against a home, install a level.

A package (`WSO2-CARBON-UPDATE-<version>-<NNNN>.zip`, DESIGN §6) is untrusted input: every
member and every path its descriptor names is checked, the `after` checksum of every file
it carries is verified, and the `before` checksum of every file it modifies or removes is
compared with the home — all before the first byte is written to the home. The package
is read on the controller and its payload streamed as tar into a staging folder on the
server's host; files then move into the home one rename each. Plugin jars
that Carbon overlaid with a patch are compared through the server's own copy of the
originals in `repository/components/patches/patch0000`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import yaml
from pydantic import BaseModel, ConfigDict

from engine.killpoints import reached_inside
from providers.hosts.base import Transport
from providers.hosts.paths import fresh_sibling, inside, is_file, remove_staging, stage_tree
from providers.product.archive import ArchiveError, artifact_present, inspect_zip, read_member
from providers.product.ziptar import write_zip_tar
from safefs.pathsafety import UnsafePathError, safe_member_name

DESCRIPTOR = "update-descriptor3.yaml"
PAYLOAD = "carbon.home"
PLUGINS = PurePosixPath("repository/components/plugins")
BASE_PATCH = PurePosixPath("repository/components/patches/patch0000")
LEVEL_FILE = "updates/config.json"
SHOWN = 4


class UpdateError(ValueError):
    """An update level cannot be read or installed; the message names the files."""


class FileSums(BaseModel):
    """A file's checksum before and after a level (None: absent on that side)."""

    model_config = ConfigDict(frozen=True)

    before: str | None = None
    after: str | None = None


class LevelFiles(BaseModel):
    """What one update level does to a home of one product, read from its descriptor."""

    model_config = ConfigDict(frozen=True)

    level: int
    package: str
    added: tuple[str, ...]
    modified: tuple[str, ...]
    removed: tuple[str, ...]
    checksums: dict[str, FileSums]


class LevelResult(BaseModel):
    """What installing one level did."""

    model_config = ConfigDict(frozen=True)

    level: int
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    overwritten: tuple[str, ...] = ()
    already: bool = False


def package_path(updates_dir: Path, version: str, level: int) -> Path:
    """`<updates_dir>/WSO2-CARBON-UPDATE-<version>-<NNNN>.zip`."""
    return updates_dir / f"WSO2-CARBON-UPDATE-{version}-{level:04d}.zip"


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
    """Record `level` in `updates/config.json` atomically, keeping its other keys."""
    path = home / LEVEL_FILE
    try:
        data = json.loads(t.read_bytes(path, limit=1 << 20).decode("utf-8"))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    data["update-level"] = level
    t.write_atomic(path, (json.dumps(data) + "\n").encode())


def _rel(raw: object, package: Path) -> str:
    try:
        return safe_member_name(str(raw), archive=f"{package.name} descriptor").as_posix()
    except UnsafePathError as exc:
        raise UpdateError(f"{exc}; the package is refused") from exc


def _paths(entry: Mapping[str, object], key: str, package: Path) -> tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list):
        raise UpdateError(f"{package.name}: descriptor key {key!r} must be a list")
    return tuple(_rel(v, package) for v in value)


def read_descriptor(package: Path, *, product: str, version: str, level: int) -> LevelFiles:
    """Read and check the descriptor of the package of `level` for `product`-`version`.

    Every member of the package is checked first (no absolute paths, `..`, links or
    special files). Raises UpdateError naming the package when it is missing, unsafe,
    for another product, version or level, or lacks a checksum for a file it changes.
    """
    if not artifact_present(package):
        raise UpdateError(f"update level {level}: {package.name} is missing from "
                          f"{package.parent}; add it to the product's updates folder")
    try:
        inspect_zip(package)
        doc = yaml.safe_load(read_member(package, DESCRIPTOR))
    except ArchiveError as exc:
        raise UpdateError(f"update level {level}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UpdateError(f"{package.name}: {DESCRIPTOR} is not valid YAML") from exc
    if not isinstance(doc, dict):
        raise UpdateError(f"{package.name}: {DESCRIPTOR} is not a mapping")
    number = str(doc.get("update_number", ""))
    if not number.isdigit() or int(number) != level:
        raise UpdateError(f"{package.name} holds update {number or '(none)'}, not level {level}")
    if str(doc.get("platform_version")) != version:
        raise UpdateError(f"{package.name} is for platform {doc.get('platform_version')}, "
                          f"not {version}")
    entries = [p for p in doc.get("compatible_products") or [] if isinstance(p, dict)]
    entry = next((p for p in entries if p.get("product_name") == product
                  and str(p.get("product_version")) == version), None)
    if entry is None:
        names = ", ".join(f"{p.get('product_name')}-{p.get('product_version')}"
                          for p in entries) or "no product"
        raise UpdateError(f"{package.name} is for {names}, not {product}-{version}")
    sums = {_rel(k, package): FileSums.model_validate(v or {})
            for k, v in (doc.get("checksums") or {}).items()}
    files = LevelFiles(level=level, package=str(package), added=_paths(entry, "added_files",
                       package), modified=_paths(entry, "modified_files", package),
                       removed=_paths(entry, "removed_files", package), checksums=sums)
    for path in (*files.added, *files.modified):
        if sums.get(path, FileSums()).after is None:
            raise UpdateError(f"{package.name}: no 'after' checksum for {path}")
    for path in (*files.modified, *files.removed):
        if sums.get(path, FileSums()).before is None:
            raise UpdateError(f"{package.name}: no 'before' checksum for {path}")
    return files


def _laid_by_patch(t: Transport, home: PurePosixPath, name: str, digest: str | None) -> bool:
    """True when a patch folder (`patchNNNN`, not `patch0000`) holds this jar's content."""
    if digest is None:
        return False
    folder = home / BASE_PATCH.parent
    for patch in t.list_dir(folder):
        if patch.name == BASE_PATCH.name or not patch.name.startswith("patch"):
            continue
        jar = folder / patch.name / name
        if is_file(t, jar) and t.sha256(jar) == digest:
            return True
    return False


def current_sums(t: Transport, home: PurePosixPath, path: str) -> frozenset[str | None]:
    """The checksums a home file counts as: its own, and for a plugin jar that Carbon laid a
    patch over, also the original it keeps in `patches/patch0000` (None: file absent)."""
    target = inside(t, home, path, what=f"{home} file")
    own = t.sha256(target) if is_file(t, target) else None
    sums: set[str | None] = {own}
    rel = PurePosixPath(path)
    if rel.parent == PLUGINS:
        original = home / BASE_PATCH / rel.name
        if is_file(t, original) and _laid_by_patch(t, home, rel.name, own):
            sums.add(t.sha256(original))
    return frozenset(sums)


def _short(value: str | None) -> str:
    return "absent" if value is None else value[:19] + "…"


def conflicts(t: Transport, home: PurePosixPath, files: LevelFiles,
              known: Mapping[str, frozenset[str | None]] | None = None) -> list[str]:
    """One message per file of `files` whose current checksum is neither `before` nor
    already `after`. `known` overrides what the home holds (levels planned before)."""
    out = []
    for path in (*files.added, *files.modified, *files.removed):
        sums = files.checksums[path]
        try:
            now = (known or {}).get(path) or current_sums(t, home, path)
        except UnsafePathError:
            out.append(f"{path}: resolves outside {home} through a link")
            continue
        if sums.before in now or sums.after in now:
            continue
        seen = sorted(s or "" for s in now)[-1] or None
        out.append(f"{path}: is {_short(seen)}, level {files.level} expects "
                   f"{_short(sums.before)}")
    return out


def refusal(level: int, found: list[str]) -> str:
    """The one-line refusal for conflicting files, naming the first few."""
    names = ", ".join(f.split(":", 1)[0] for f in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (f"update level {level} conflicts with {len(found)} file(s): {names}{more}; "
            "restore them or set 'conflicts: overwrite' on the server (the current files "
            "are kept in the change backup)")


def _check_carried(files: LevelFiles, carried: Mapping[str, str]) -> None:
    """Refuse a payload that carries more or less than its descriptor says, or a file
    that fails its `after` checksum."""
    package = Path(files.package)
    declared = set(files.added) | set(files.modified)
    extra = sorted(set(carried) - declared)
    if extra:
        raise UpdateError(f"{package.name} carries {extra[0]}, which its descriptor does not "
                          "list; the package is refused")
    for path in sorted(declared):
        if path not in carried:
            raise UpdateError(f"{package.name} lacks {PAYLOAD}/{path}; the package is refused")
        if carried[path] != files.checksums[path].after:
            raise UpdateError(f"{package.name}: {PAYLOAD}/{path} does not match its 'after' "
                              "checksum; fetch the package again")


def _stage(t: Transport, files: LevelFiles, home: PurePosixPath) -> PurePosixPath:
    """Stream the package's payload into a staging folder beside `home` and verify every
    carried file; returns the folder (removed again when the payload is refused)."""
    package = Path(files.package)
    carried: dict[str, str] = {}

    def produce(sink: BinaryIO) -> None:
        carried.update(write_zip_tar(package, sink, only=PAYLOAD, strip=PAYLOAD))

    try:
        staging = stage_tree(t, fresh_sibling(home, f"update-{files.level:04d}"), produce)
    except ArchiveError as exc:
        raise UpdateError(f"update level {files.level}: {exc}") from exc
    try:
        _check_carried(files, {k: v for k, v in carried.items()})
    except BaseException:
        t.remove_tree(staging)
        raise
    return staging


def _put(t: Transport, home: PurePosixPath, staged: PurePosixPath, path: str) -> None:
    """Move one staged file over the home's file by rename, keeping the file's mode."""
    target = inside(t, home, path, what=f"{home} file")
    old = t.stat(target)
    if old is not None and old.kind == "file":
        t.chmod(staged, old.mode & 0o777)
    t.mkdir(target.parent)
    t.rename(staged, target)


def install_level(t: Transport, home: PurePosixPath, package: Path, *, product: str,
                  version: str, level: int, overwrite: bool = False) -> LevelResult:
    """Install update `level` from `package` (on the controller) into `home` on host `t`,
    then record the level.

    Idempotent: a home already at `level` or above is left alone, and files already at
    their `after` checksum are not rewritten. Raises UpdateError (nothing written) when
    the home is not at `level - 1`, the package is missing, unsafe, for another product,
    carries files that fail their checksum, or a file conflicts and not `overwrite`.
    """
    now = read_level(t, home)
    if now >= level:
        return LevelResult(level=level, already=True)
    if max(now, 0) != level - 1:
        raise UpdateError(f"{home} is at update level {now}; level {level} needs level "
                          f"{level - 1} first")
    files = read_descriptor(package, product=product, version=version, level=level)
    found = conflicts(t, home, files)
    if found and not overwrite:
        raise UpdateError(refusal(level, found))
    remove_staging(t, home)  # what a killed run of this level (or an earlier one) staged
    staging = _stage(t, files, home)
    reached_inside("staged")
    try:
        written = []
        for path in (*files.added, *files.modified):
            if files.checksums[path].after in current_sums(t, home, path) and \
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
                       overwritten=tuple(f.split(":", 1)[0] for f in found))
