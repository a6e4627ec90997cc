"""Safe reading and extraction of untrusted zip archives (packs, updates, patches).

Every member is checked (name, type, duplicates, size caps) before the first byte is
written, and extraction goes into a temporary directory beside the destination that is
renamed into place only when every member was read back with a good CRC.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict

from safefs.pathsafety import UnsafePathError, contained, safe_member_name

DEFAULT_MAX_MEMBERS = 100_000
DEFAULT_MAX_TOTAL_SIZE = 4 * 1024**3
DEFAULT_MAX_MEMBER_READ = 16 * 1024**2
_CHUNK = 1024 * 1024
_END_RECORD = b"PK\x05\x06"
_END_RECORD_MAX = 22 + 65535
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError)


class ArchiveError(ValueError):
    """An archive is corrupt, unsafe or does not have the expected layout."""


class ZipMember(BaseModel):
    """One checked member of a zip archive.

    `name` is the normalised relative POSIX path (no trailing slash, no ``./``);
    `mode` is the Unix permission bits recorded in the archive, or None when absent.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    is_dir: bool
    size: int
    compressed_size: int
    crc: int
    mode: int | None = None

    @property
    def executable(self) -> bool:
        """True when the archive records an execute bit for this member."""
        return self.mode is not None and bool(self.mode & 0o111)


def _check_type(info: zipfile.ZipInfo, label: str) -> int | None:
    """Return the member's permission bits, refusing links and special files."""
    unix = info.external_attr >> 16
    kind = stat.S_IFMT(unix)
    if kind == stat.S_IFLNK:
        raise ArchiveError(f"{label}: member {info.filename!r} is a symbolic link; "
                           "links are refused in archives")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"{label}: member {info.filename!r} is a device, FIFO or other "
                           "special file; only files and directories are allowed")
    if kind == stat.S_IFDIR and not info.is_dir():
        raise ArchiveError(f"{label}: member {info.filename!r} is marked as a directory "
                           "but its name has no trailing '/'")
    if kind == stat.S_IFREG and info.is_dir():
        raise ArchiveError(f"{label}: member {info.filename!r} is marked as a file but "
                           "its name ends with '/'")
    if info.flag_bits & 0x1:
        raise ArchiveError(f"{label}: member {info.filename!r} is encrypted; "
                           "encrypted archives are not supported")
    return stat.S_IMODE(unix) if unix else None


def _check_tree(members: list[ZipMember], label: str) -> None:
    """Refuse duplicate names and a file that another member uses as a directory."""
    seen: dict[str, ZipMember] = {}
    for member in members:
        earlier = seen.get(member.name)
        if earlier is not None and not (earlier.is_dir and member.is_dir):
            raise ArchiveError(f"{label}: member {member.name!r} appears more than once")
        seen[member.name] = member
    files = {m.name for m in members if not m.is_dir}
    for member in members:
        for parent in PurePosixPath(member.name).parents:
            if parent.as_posix() in files:
                raise ArchiveError(f"{label}: member {member.name!r} sits under "
                                   f"{parent.as_posix()!r}, which is a file")


def _open(path: Path) -> zipfile.ZipFile:
    """Open `path` as a zip, turning every failure into ArchiveError.

    Besides what zipfile checks, the end record must close the file and the first member
    must start at byte 0: a truncated pack can otherwise open as one of its nested jars.
    """
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise ArchiveError(f"{path}: archive not found; check the path") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{path}: not a readable zip archive ({exc}); "
                           "fetch or rebuild it") from exc
    try:
        _check_framing(path, zf)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_framing(path: Path, zf: zipfile.ZipFile) -> None:
    """Refuse data after the end record or before the first member (truncation, splicing)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - _END_RECORD_MAX))
        tail = fh.read()
    at = tail.rfind(_END_RECORD)
    comment_len = int.from_bytes(tail[at + 20:at + 22], "little") if at >= 0 else -1
    if at < 0 or at + 22 + comment_len != len(tail):
        raise ArchiveError(f"{path}: not a readable zip archive (data after its end record; "
                           "truncated or spliced); fetch or rebuild it")
    offsets = [info.header_offset for info in zf.infolist()]
    if offsets and min(offsets) != 0:
        raise ArchiveError(f"{path}: not a readable zip archive ({min(offsets)} bytes before "
                           "its first member; truncated or spliced); fetch or rebuild it")


def _members(zf: zipfile.ZipFile, label: str, max_members: int,
             max_total_size: int) -> list[tuple[zipfile.ZipInfo, ZipMember]]:
    """Check every entry of an open zip and pair it with its ZipMember."""
    infos = zf.infolist()
    if len(infos) > max_members:
        raise ArchiveError(f"{label}: {len(infos)} members exceed the limit of "
                           f"{max_members}; refusing a possible zip bomb")
    pairs: list[tuple[zipfile.ZipInfo, ZipMember]] = []
    total = 0
    for info in infos:
        try:
            name = safe_member_name(info.filename, archive=label)
        except UnsafePathError as exc:
            raise ArchiveError(str(exc)) from exc
        mode = _check_type(info, label)
        total += info.file_size
        if total > max_total_size:
            raise ArchiveError(f"{label}: uncompressed size exceeds the limit of "
                               f"{max_total_size} bytes at member {info.filename!r}; "
                               "refusing a possible zip bomb")
        member = ZipMember(name=name.as_posix(), is_dir=info.is_dir(), size=info.file_size,
                           compressed_size=info.compress_size, crc=info.CRC, mode=mode)
        pairs.append((info, member))
    _check_tree([m for _, m in pairs], label)
    return pairs


def inspect_zip(path: Path, *, max_members: int = DEFAULT_MAX_MEMBERS,
                max_total_size: int = DEFAULT_MAX_TOTAL_SIZE) -> list[ZipMember]:
    """List the members of the zip at `path` after checking every one of them.

    Takes the archive path and caps on member count and total uncompressed size.
    Returns the members in archive order. Raises ArchiveError naming the archive and the
    offending member for unsafe names (absolute, ``..``, backslash), links, special
    files, duplicates, encryption, caps exceeded, or an unreadable zip. Member data is
    not read, so a CRC error is only found by `extract_zip` or `read_member`.
    """
    with _open(path) as zf:
        return [m for _, m in _members(zf, str(path), max_members, max_total_size)]


def _select(member: ZipMember, only: PurePosixPath | None,
            strip: PurePosixPath | None, label: str) -> PurePosixPath | None:
    """Map a member to its path under dest, or None when it is not extracted."""
    rel = PurePosixPath(member.name)
    if only is not None and rel != only and only not in rel.parents:
        return None
    if strip is not None:
        if rel == strip:
            return None
        if strip not in rel.parents:
            raise ArchiveError(f"{label}: member {member.name!r} is not under "
                               f"{strip.as_posix()!r}; the archive layout is unexpected")
        rel = rel.relative_to(strip)
    return rel


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
                 member: ZipMember, label: str) -> None:
    """Write one member to a new file, verifying its size and CRC."""
    written = 0
    try:
        with zf.open(info) as src, target.open("xb") as dst:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > member.size:
                    raise ArchiveError(f"{label}: member {member.name!r} holds more data "
                                       "than its header declares")
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise ArchiveError(f"{label}: member {member.name!r} is corrupt or truncated "
                           f"({exc}); fetch or rebuild the archive") from exc
    target.chmod(0o755 if member.executable else 0o644)


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def extract_zip(path: Path, dest: Path, *, strip: str | None = None,
                only: str | None = None, max_members: int = DEFAULT_MAX_MEMBERS,
                max_total_size: int = DEFAULT_MAX_TOTAL_SIZE) -> list[Path]:
    """Extract the zip at `path` into the new directory `dest`, all or nothing.

    `only` keeps just the member (or folder) of that name and what is under it; `strip`
    removes that leading folder from every kept member (a kept member outside it is an
    error). `dest` must not exist or be an empty directory.
    Returns the extracted file paths under `dest`, in archive order.
    Raises ArchiveError (see `inspect_zip`) for unsafe or corrupt archives, a non-empty
    `dest`, or a CRC/truncation error while reading; `dest` is then left untouched.

    >>> extract_zip(Path("wso2am-4.2.0.zip"), Path("home"), strip="wso2am-4.2.0")  # doctest: +SKIP
    """
    label = str(path)
    only_rel = _option(only, "only", label)
    strip_rel = _option(strip, "strip", label)
    if dest.is_symlink() or dest.is_file() or (dest.is_dir() and any(dest.iterdir())):
        raise ArchiveError(f"{label}: destination {dest} exists and is not an empty "
                           "directory; extract into a fresh directory")
    with _open(path) as zf:
        plan: list[tuple[zipfile.ZipInfo, ZipMember, PurePosixPath]] = []
        for info, member in _members(zf, label, max_members, max_total_size):
            rel = _select(member, only_rel, strip_rel, label)
            if rel is not None:
                plan.append((info, member, rel))
        dest.parent.mkdir(parents=True, exist_ok=True)
        _check_room(dest.parent, sum(m.size for _, m, _ in plan), label)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial",
                                        dir=dest.parent))
        try:
            written = _write_all(zf, plan, staging, label)
            staging.chmod(0o755)
            staging.rename(dest)  # replaces an empty `dest` directory atomically
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _fsync_dir(dest.parent)
    return [dest / rel for rel in written]


def _check_room(folder: Path, needed: int, label: str) -> None:
    """Refuse an extraction whose declared sizes do not fit the free space of `folder`
    (each member is also held to its declared size while it is written)."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ArchiveError(f"{label}: needs {needed} bytes but {folder} has {free} free; "
                           "nothing was written (free space or extract elsewhere)")


def _option(value: str | None, what: str, label: str) -> PurePosixPath | None:
    """Normalise an `only`/`strip` argument, refusing unsafe values."""
    if value is None:
        return None
    try:
        return safe_member_name(value.rstrip("/"), archive=f"{label} ({what})")
    except UnsafePathError as exc:
        raise ArchiveError(str(exc)) from exc


def _write_all(zf: zipfile.ZipFile,
               plan: list[tuple[zipfile.ZipInfo, ZipMember, PurePosixPath]],
               staging: Path, label: str) -> list[PurePosixPath]:
    """Write the planned members under `staging`; return the file paths written."""
    written: list[PurePosixPath] = []
    for info, member, rel in plan:
        try:
            target = contained(staging, rel, what=label)
        except UnsafePathError as exc:
            raise ArchiveError(str(exc)) from exc
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_member(zf, info, target, member, label)
        written.append(rel)
    return written


def read_member(path: Path, name: str, *, max_size: int = DEFAULT_MAX_MEMBER_READ) -> bytes:
    """Return the bytes of the member `name` of the zip at `path` (CRC checked).

    Meant for small members such as ``update-descriptor3.yaml``. Raises ArchiveError
    when the archive is unreadable, the member is missing, is larger than `max_size`,
    or its data is corrupt.
    """
    label = str(path)
    wanted = _option(name, "member", label)
    with _open(path) as zf:
        for info in zf.infolist():
            try:
                candidate = safe_member_name(info.filename, archive=label)
            except UnsafePathError:
                continue
            if candidate != wanted or info.is_dir():
                continue
            _check_type(info, label)
            if info.file_size > max_size:
                raise ArchiveError(f"{label}: member {name!r} is {info.file_size} bytes, "
                                   f"over the {max_size}-byte limit for a descriptor")
            try:
                with zf.open(info) as src:
                    data = src.read(max_size + 1)
            except _READ_ERRORS as exc:
                raise ArchiveError(f"{label}: member {name!r} is corrupt or truncated "
                                   f"({exc}); fetch or rebuild the archive") from exc
            if len(data) > max_size:
                raise ArchiveError(f"{label}: member {name!r} holds more data than its "
                                   "header declares")
            return data
    raise ArchiveError(f"{label}: has no member {name!r}; check the archive's layout")


def _read_through(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: ZipMember,
                  label: str, digest: Any = None) -> None:
    """Read one member in chunks, held to its declared size (fed to `digest` if given)."""
    seen = 0
    try:
        with zf.open(info) as src:
            while chunk := src.read(_CHUNK):
                seen += len(chunk)
                if seen > member.size:
                    raise ArchiveError(f"{label}: member {member.name!r} holds more "
                                       "data than its header declares")
                if digest is not None:
                    digest.update(chunk)
    except _READ_ERRORS as exc:
        raise ArchiveError(f"{label}: member {member.name!r} is corrupt or truncated "
                           f"({exc}); fetch or rebuild the archive") from exc


def member_digests(path: Path, names: set[str]) -> dict[str, str]:
    """``sha256:<hex>`` of each file member of the zip at `path` whose name is in `names`
    (members not found are left out), read in chunks with each member held to its
    declared size. Raises ArchiveError for an unsafe, unreadable or corrupt archive."""
    label = str(path)
    out: dict[str, str] = {}
    with _open(path) as zf:
        for info, member in _members(zf, label, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_TOTAL_SIZE):
            if member.is_dir or member.name not in names:
                continue
            digest = hashlib.sha256()
            _read_through(zf, info, member, label, digest)
            out[member.name] = "sha256:" + digest.hexdigest()
    return out


def verify_zip(path: Path) -> None:
    """Read every member of the zip at `path` through, each held to its declared size, so
    a damaged archive is refused whole before any of it is used. Raises ArchiveError."""
    label = str(path)
    with _open(path) as zf:
        for info, member in _members(zf, label, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_TOTAL_SIZE):
            if not member.is_dir:
                _read_through(zf, info, member, label)
