"""Check one update level against its package and a home before anything is written.

`level_files` turns an indexed package into what the level does to one product's homes and
refuses a descriptor that contradicts its payload (a listed file it does not carry, a
carried file no product lists, a file that fails the `checksums` key some packages have).
`conflicts` compares the home with what each touched file must hold before the level
(`LevelChain`: the pack plus the earlier levels' payloads). Plugin jars that Carbon
overlaid with a patch are compared through its own copy of the originals in
`repository/components/patches/patch0000`.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from providers.hosts.base import Transport
from providers.hosts.paths import inside, is_file
from providers.product.archive import ArchiveError
from providers.product.descriptors import PAYLOAD, FileSums
from providers.product.level_chain import UNKNOWN, Expected, LevelChain, payload_digests
from providers.product.package_index import ProductUpdates
from safefs.pathsafety import UnsafePathError

PLUGINS = PurePosixPath("repository/components/plugins")
BASE_PATCH = PurePosixPath("repository/components/patches/patch0000")
SHOWN = 4


class UpdateError(ValueError):
    """An update level cannot be read or installed; the message names the files."""


class LevelFiles(BaseModel):
    """What one update level does to a home of one product, read from its descriptor."""

    model_config = ConfigDict(frozen=True)

    level: int
    package: str
    top: str = ""
    platform_version: str = ""
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    checksums: dict[str, FileSums] = {}
    instructions: str = ""
    notes: tuple[str, ...] = ()

    def member(self, rel: str) -> str:
        """The zip member of the payload file `rel`."""
        return "/".join(p for p in (self.top, PAYLOAD, rel) if p)


def missing_level(updates: ProductUpdates, level: int) -> str:
    """The line for a level no package of the folder carries."""
    kernel = updates.platform_version or "<kernel>"
    return (f"update level {level}: no package in {updates.folder} carries update {level:04d} "
            f"for {updates.product}; add WSO2-CARBON-UPDATE-{kernel}-{level:04d}.zip there")


def level_files(updates: ProductUpdates, level: int, *, verify: bool = True) -> LevelFiles:
    """What `level` does to `updates.product`'s homes, from the package that carries it.

    With `verify`, the payload is hashed against the descriptor's `checksums` where it
    has them. Raises UpdateError in one line naming the package when no package carries
    the level or its descriptor contradicts its payload.
    """
    package = updates.levels.get(level)
    changes = updates.changes(level)
    if package is None or changes is None:
        raise UpdateError(missing_level(updates, level))
    name, d = Path(package.path).name, package.descriptor
    carried = set(package.layout.payload)
    for path in (*changes.added, *changes.modified):
        if path not in carried:
            raise UpdateError(f"{name}: its descriptor lists {path} as added or modified but "
                              f"the package does not carry {PAYLOAD}/{path}; the package is "
                              "refused")
    listed = {p for e in d.products for p in (*e.added, *e.modified)}
    extra = sorted(carried - listed)
    if extra:
        raise UpdateError(f"{name} carries {PAYLOAD}/{extra[0]}, which its descriptor does not "
                          "list; the package is refused")
    files = LevelFiles(level=level, package=package.path, top=package.layout.top,
                       platform_version=d.platform_version, added=changes.added,
                       modified=changes.modified, removed=changes.removed,
                       checksums=d.checksums, instructions=d.instructions,
                       notes=tuple(n for n in [package.name_note()] if n))
    if verify and d.checksums:
        try:
            digests = payload_digests(package, changes)
        except ArchiveError as exc:
            raise UpdateError(f"update level {level}: {exc}") from exc
        for path, digest in digests.items():
            after = d.checksums.get(path, FileSums()).after
            if after is not None and after != digest:
                raise UpdateError(f"{name}: {PAYLOAD}/{path} does not match its descriptor's "
                                  "checksum; the package is refused (fetch it again)")
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


def expected_before(files: LevelFiles, chain: LevelChain | None,
                    paths: list[str]) -> dict[str, Expected]:
    """Per path, what it must hold before the level: from the chain, else the descriptor's
    `checksums` where it has them, else UNKNOWN. Raises UpdateError for unreadable
    artifacts."""
    try:
        known = chain.before(files.level, paths) if chain is not None else {}
    except ArchiveError as exc:
        raise UpdateError(f"update level {files.level}: {exc}") from exc
    out: dict[str, Expected] = {}
    for path in paths:
        value = known.get(path, UNKNOWN)
        sums = files.checksums.get(path)
        if value is UNKNOWN and sums is not None and (
                sums.before is not None or path in files.added):
            value = sums.before
        out[path] = value
    return out


def conflicts(t: Transport, home: PurePosixPath, files: LevelFiles, chain: LevelChain | None,
              after: dict[str, str | None], skip: Collection[str] = ()) -> list[str]:
    """One message per file of `files` (outside `skip`: files earlier planned levels write)
    whose content on the home is neither what it must be before the level nor already what
    the level leaves (`after`: path -> digest, None for removed)."""
    paths = [p for p in (*files.added, *files.modified, *files.removed) if p not in skip]
    expected = expected_before(files, chain, paths)
    out = []
    for path in paths:
        want = expected[path]
        if want is UNKNOWN:
            continue
        try:
            now = current_sums(t, home, path)
        except UnsafePathError:
            out.append(f"{path}: resolves outside {home} through a link")
            continue
        if want in now or after.get(path, UNKNOWN) in now:
            continue
        seen = sorted(s or "" for s in now)[-1] or None
        out.append(f"{path}: is {_short(seen)}, level {files.level} expects "
                   f"{_short(want if isinstance(want, str) else None)} (as the pack and the "
                   "earlier levels left it)")
    return out


def refusal(level: int, found: list[str]) -> str:
    """The one-line refusal for conflicting files, naming the first few."""
    names = ", ".join(f.split(":", 1)[0] for f in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (f"update level {level} conflicts with {len(found)} file(s): {names}{more}; "
            "restore them or set 'conflicts: overwrite' on the server (the current files "
            "are kept in the change backup)")
