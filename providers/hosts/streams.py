"""Tar streams between the controller and a host: a producer piped into a consumer, and
the member-by-member filters that check a stream as it passes (nothing whole in memory).

`piped` runs a producer (writing a tar: members of a zip on the controller, a snapshot
part from a repository) in a thread and hands its output as a readable stream to a
consumer (`Transport.tar_in`). `copy_members` re-writes a tar stream keeping only what is
safe and wanted, reporting what it kept and what it skipped.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO, TypeVar

from safefs.pathsafety import UnsafePathError, safe_member_name

CHUNK = 1 << 20
T = TypeVar("T")


def piped(produce: Callable[[BinaryIO], None], consume: Callable[[BinaryIO], T]) -> T:
    """Run `produce(writer)` in a thread and `consume(reader)` here on the other end.

    Returns what `consume` returns. When the producer fails, its error is raised (even
    when the consumer also complained about the cut-short stream); when the consumer
    fails, the producer is stopped by the closed pipe and the consumer's error raised.
    """
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    writer = os.fdopen(write_fd, "wb")
    failure: list[BaseException] = []

    def run() -> None:
        try:
            produce(writer)
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)
        finally:
            try:
                writer.close()
            except OSError:
                pass

    thread = threading.Thread(target=run, name="drydock-tar-pipe", daemon=True)
    thread.start()
    try:
        result = consume(reader)
        while reader.read(CHUNK):
            pass
    except BaseException:
        reader.close()
        thread.join()
        if failure and not isinstance(failure[0], BrokenPipeError):
            raise failure[0] from None
        raise
    reader.close()
    thread.join()
    if failure:
        raise failure[0]
    return result


@dataclass
class Copied:
    """What `copy_members` let through and what it skipped (one line each)."""

    names: list[PurePosixPath] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    dirs: int = 0
    links: int = 0
    bytes: int = 0


LinkJudge = Callable[[PurePosixPath, str], str | None]
"""For a link member: the link text to store, or None to skip it (it leaves the root)."""


def _selected(name: PurePosixPath, only: Sequence[PurePosixPath] | None) -> bool:
    return only is None or any(name == o or o in name.parents for o in only)


def link_stays_inside(name: PurePosixPath, linkname: str) -> bool:
    """True when a relative link text, read from its member's folder, stays in the root."""
    if not linkname or linkname.startswith("/") or "\x00" in linkname:
        return False
    joined = posixpath.normpath(posixpath.join(name.parent.as_posix(), linkname))
    return not (joined == ".." or joined.startswith("../"))


def copy_members(source: BinaryIO, sink: BinaryIO, *, label: str,
                 only: Sequence[PurePosixPath] | None = None,
                 judge_link: LinkJudge | None = None, strict: bool = True,
                 select: Callable[[str], bool] | None = None) -> Copied:
    """Copy the tar `source` into `sink` member by member, checking each one.

    Names must be plain relative paths (UnsafePathError otherwise). Links go through
    `judge_link` (default: a relative link that stays inside is kept as it is). Hard
    links and special files are refused when `strict`, else skipped with a warning,
    as are links the judge rejects. With `select` only the files and links it accepts
    pass, and no directory member (so each restores on its own, beside what is there).
    Raises tarfile.TarError for a malformed stream.
    """
    out = Copied()
    with tarfile.open(fileobj=source, mode="r|") as tar, \
            tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as dst:
        for member in tar:
            name = safe_member_name(member.name, archive=label)
            if not _selected(name, only):
                continue
            if select is not None and (member.isdir() or not select(name.as_posix())):
                continue
            member.name = name.as_posix()
            if member.issym():
                text = judge_link(name, member.linkname) if judge_link else (
                    member.linkname if link_stays_inside(name, member.linkname) else None)
                if text is None:
                    if strict:
                        raise UnsafePathError(f"{label}: link {name} -> {member.linkname!r} "
                                              "escapes the root")
                    out.warnings.append(f"{name}: symlink points outside the root "
                                        f"({member.linkname}); skipped")
                    continue
                member.linkname = text
                dst.addfile(member)
                out.links += 1
            elif member.isdir():
                dst.addfile(member)
                out.dirs += 1
            elif member.isreg():
                dst.addfile(member, tar.extractfile(member))
                out.files += 1
                out.bytes += member.size
            else:
                what = "hard link" if member.islnk() else "special file"
                if strict:
                    raise UnsafePathError(f"{label}: member {name} is a {what}; refused")
                out.warnings.append(f"{name}: not a regular file, directory or symlink; "
                                    "skipped")
                continue
            out.names.append(name)
    return out
