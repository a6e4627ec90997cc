"""Tar parts: stream a tree of declared paths into a tar, and extract one safely.

Writing records regular files, directories and symlinks that stay inside the root (links
pointing outside, and special files, are skipped with a warning). Extracting refuses
absolute names, ``..``, hard links, special files and links whose target resolves
outside the staging directory when followed through the other members: each link is
checked lexically, again with ``realpath`` once created, and every link once more after
the whole part is extracted (a later member can redirect an earlier link), all before
anything is swapped into place.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from safefs.pathsafety import UnsafePathError, contained, safe_member_name

COPY_BUFFER = 1 << 20


class TreeReadError(Exception):
    """A file under a declared path could not be read completely."""


class TarStats(BaseModel):
    """Counts of what went into a tar part."""

    model_config = ConfigDict(frozen=True)

    files: int
    dirs: int
    links: int
    bytes: int


class _Counter:
    def __init__(self) -> None:
        self.files = self.dirs = self.links = self.bytes = 0

    def stats(self) -> TarStats:
        return TarStats(files=self.files, dirs=self.dirs, links=self.links, bytes=self.bytes)


class _TarStream:
    """Writes tar members straight into a sink: tarfile's PAX headers, no extra buffering.

    (tarfile's own ``w|`` mode re-copies its buffer on every write, which costs more than
    compressing.)
    """

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._offset = 0

    def _put(self, data: bytes | memoryview) -> None:
        self._sink.write(data)
        self._offset += len(data)

    def addfile(self, info: tarfile.TarInfo, handle: BinaryIO | None = None) -> None:
        """Write one member; for a regular file copy exactly ``info.size`` bytes of `handle`."""
        self._put(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        if handle is None:
            return
        remaining = info.size
        while remaining:
            chunk = handle.read(min(COPY_BUFFER, remaining))
            if not chunk:
                raise OSError(errno.EIO, "file shrank while it was read")
            self._put(chunk)
            remaining -= len(chunk)
        if info.size % tarfile.BLOCKSIZE:
            self._put(tarfile.NUL * (tarfile.BLOCKSIZE - info.size % tarfile.BLOCKSIZE))

    def close(self) -> None:
        """Write the end-of-archive blocks and pad to a whole record."""
        self._put(tarfile.NUL * (2 * tarfile.BLOCKSIZE))
        if self._offset % tarfile.RECORDSIZE:
            self._put(tarfile.NUL * (tarfile.RECORDSIZE - self._offset % tarfile.RECORDSIZE))


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _base_info(name: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    return info


def _add_link(
    tar: _TarStream, full: Path, name: str, st: os.stat_result, root_real: str,
    warnings: list[str],
) -> bool:
    real = os.path.realpath(full)
    target = full.readlink()
    if not _inside(real, root_real):
        warnings.append(f"{name}: symlink points outside the root ({target}); skipped")
        return False
    if target.is_absolute():
        target = Path(os.path.relpath(real, os.path.realpath(full.parent)))
    info = _base_info(name, st)
    info.type = tarfile.SYMTYPE
    info.linkname = target.as_posix()
    tar.addfile(info)
    return True


def _add_entry(
    tar: _TarStream, full: Path, name: str, root_real: str, warnings: list[str],
    counter: _Counter,
) -> bool:
    """Add one path; returns True when it is a directory whose children should follow."""
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        counter.links += _add_link(tar, full, name, st, root_real, warnings)
        return False
    if stat.S_ISDIR(st.st_mode):
        info = _base_info(name, st)
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        counter.dirs += 1
        return True
    if not stat.S_ISREG(st.st_mode):
        warnings.append(f"{name}: not a regular file, directory or symlink; skipped")
        return False
    info = _base_info(name, st)
    info.size = st.st_size
    try:
        with full.open("rb") as handle:
            tar.addfile(info, handle)
    except OSError as exc:
        raise TreeReadError(
            f"{name}: cannot be read ({exc.strerror or exc}); check it is not being "
            "rewritten or truncated while the backup runs"
        ) from exc
    counter.files += 1
    counter.bytes += st.st_size
    return False


def write_tree_tar(
    sink: BinaryIO, root: Path, paths: Sequence[PurePosixPath], warnings: list[str]
) -> TarStats:
    """Stream the declared `paths` (relative to `root`, already checked) as a tar into `sink`.

    Walks in sorted order; appends a message to `warnings` for each skipped entry
    (missing declared path, link pointing outside, special file). Returns counts. Raises
    OSError when a file cannot be read (or shrinks while it is read).
    """
    root_real = os.path.realpath(root)
    counter = _Counter()
    tar = _TarStream(sink)
    for rel in paths:
        full = root.joinpath(*rel.parts)
        if not full.is_symlink() and not full.exists():
            warnings.append(f"{rel.as_posix()}: declared path does not exist; skipped")
            continue
        stack = [(full, rel.as_posix())]
        while stack:
            path, name = stack.pop()
            if _add_entry(tar, path, name, root_real, warnings, counter):
                children = sorted(os.scandir(path), key=lambda e: e.name, reverse=True)
                stack.extend((Path(c.path), f"{name}/{c.name}") for c in children)
    tar.close()
    return counter.stats()


def _selected(name: PurePosixPath, only: Sequence[PurePosixPath] | None) -> bool:
    if only is None:
        return True
    return any(name == o or o in name.parents for o in only)


def _check_link(name: PurePosixPath, linkname: str, archive: str) -> None:
    if not linkname or linkname.startswith("/") or "\x00" in linkname:
        raise UnsafePathError(f"{archive}: link {name} points to absolute {linkname!r}")
    joined = posixpath.normpath(posixpath.join(name.parent.as_posix(), linkname))
    if joined == ".." or joined.startswith("../"):
        raise UnsafePathError(f"{archive}: link {name} -> {linkname!r} escapes the root")


def _parent_dir(
    staging: Path, rel: PurePosixPath, parents: dict[PurePosixPath, Path], archive: str
) -> Path:
    """The real directory for `rel` under `staging`, created if missing, proved inside.

    Resolutions are cached: members never replace an existing entry (duplicates are
    refused), so a resolved parent stays what it was.
    """
    found = parents.get(rel)
    if found is None:
        found = contained(staging, rel, what=archive) if rel.parts else staging.resolve()
        try:
            found.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise UnsafePathError(f"{archive}: members under {rel} need it to be a directory, "
                                  "but the archive made it a file; refused") from None
        parents[rel] = found
    return found


def _check_resolved(link: Path, staging_real: str, name: PurePosixPath, archive: str) -> None:
    """Refuse a created link whose target, followed through what is there, leaves staging."""
    real = os.path.realpath(link)
    if not _inside(real, staging_real):
        raise UnsafePathError(
            f"{archive}: link {name} -> {str(link.readlink())!r} resolves outside the "
            "restored tree (through other links in the archive)")


def _extract_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, name: PurePosixPath, staging: Path,
    archive: str, parents: dict[PurePosixPath, Path],
) -> Path | None:
    """Extract one member; returns the path of a created symlink (None otherwise)."""
    if not (member.isdir() or member.isreg() or member.issym()):
        what = "hard link" if member.islnk() else "special file"
        raise UnsafePathError(f"{archive}: member {name} is a {what}; refused")
    if member.issym():
        _check_link(name, member.linkname, archive)
    target = _parent_dir(staging, name.parent, parents, archive) / name.name
    mode = stat.S_IMODE(member.mode) & 0o777
    if target.is_symlink() or (target.exists() and not (member.isdir() and target.is_dir())):
        raise UnsafePathError(f"{archive}: member {name} appears twice; refused")
    if member.isdir():
        target.mkdir(exist_ok=True)
        return None
    if member.issym():
        target.symlink_to(member.linkname)
        return target
    source = tar.extractfile(member)
    if source is None:
        raise UnsafePathError(f"{archive}: member {name} has no data")
    with target.open("xb") as out:
        while chunk := source.read(COPY_BUFFER):
            out.write(chunk)
    target.chmod(mode)
    os.utime(target, (member.mtime, member.mtime))
    return None


def extract_tar(
    stream: BinaryIO, staging: Path, *, only: Sequence[PurePosixPath] | None, archive: str
) -> list[PurePosixPath]:
    """Extract a tar stream under `staging` (an empty directory), refusing unsafe members.

    Takes the decompressed stream, the directory, an optional list of paths to keep
    (everything else is skipped) and a label for messages. Returns the names extracted.
    Raises UnsafePathError on absolute names, ``..``, escaping links, hard links,
    special files and duplicates; tarfile.TarError on a malformed tar.
    """
    names: list[PurePosixPath] = []
    dirs: list[tuple[Path, int, int]] = []
    parents: dict[PurePosixPath, Path] = {}
    links: list[tuple[Path, PurePosixPath]] = []
    staging_real = os.path.realpath(staging)
    with tarfile.open(fileobj=stream, mode="r|", copybufsize=COPY_BUFFER) as tar:
        for member in tar:
            name = safe_member_name(member.name, archive=archive)
            if not _selected(name, only):
                continue
            link = _extract_member(tar, member, name, staging, archive, parents)
            if link is not None:
                _check_resolved(link, staging_real, name, archive)
                links.append((link, name))
            names.append(name)
            if member.isdir():
                dirs.append((staging.joinpath(*name.parts), member.mode, int(member.mtime)))
    for link, name in links:  # the whole tree is there now: follow every link again
        _check_resolved(link, staging_real, name, archive)
    for path, mode, mtime in sorted(dirs, key=lambda d: len(d[0].parts), reverse=True):
        path.chmod(stat.S_IMODE(mode) & 0o777)
        os.utime(path, (mtime, mtime))
    return names


def top_units(names: Sequence[PurePosixPath]) -> list[PurePosixPath]:
    """Return the names whose parent is not itself among `names` (the swap units)."""
    present = set(names)
    return sorted(n for n in present if n.parent not in present)


# Public names for checking a tar stream on its way to another host (providers/hosts).
TarStream = _TarStream
check_link = _check_link
