"""Check an untrusted tar stream on the controller and pass on only what is safe.

The ssh transport extracts trees with the host's own `tar`, which must never see a
hostile member: this filter reads the stream, refuses absolute names, `..`, links that
escape (or climb back through another link), hard links, devices, FIFOs and duplicates
with the same checks as local extraction (`providers.pathsafety`,
`providers.repositories.tarpart`), and writes every accepted member as a fresh tar
header (mode without set-id bits, no owner) followed by its data, chunk by chunk.
"""

from __future__ import annotations

import tarfile
from pathlib import PurePosixPath
from typing import BinaryIO

from providers.repositories.tarpart import COPY_BUFFER, TarStream, check_link
from safefs.pathsafety import UnsafePathError, safe_member_name


def _check_link_chain(name: PurePosixPath, linkname: str, label: str) -> None:
    """A link may climb with leading `..` only: `a/..` after a name could leave the root
    through another link even when the text normalises inside it."""
    parts = [p for p in PurePosixPath(linkname).parts if p != "."]
    while parts and parts[0] == "..":
        parts.pop(0)
    if ".." in parts:
        raise UnsafePathError(f"{label}: link {name} -> {linkname!r} climbs back after "
                              "descending; refused")


def _fresh_info(member: tarfile.TarInfo, name: PurePosixPath) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name.as_posix())
    info.type = member.type if not member.isreg() else tarfile.REGTYPE
    info.mode = member.mode & 0o777
    info.mtime = member.mtime
    if member.isreg():
        info.size = member.size
    if member.issym():
        info.linkname = member.linkname
    return info


def copy_checked_tar(stream: BinaryIO, sink: BinaryIO, *, label: str) -> list[PurePosixPath]:
    """Copy the safe members of the tar `stream` into `sink` as an uncompressed tar.

    Returns the names passed on. Raises UnsafePathError at the first unsafe member (the
    members before it have been written to `sink`; nothing of it or after it has) and
    tarfile.TarError on a malformed stream.
    """
    out = TarStream(sink)
    kinds: dict[PurePosixPath, str] = {}
    links: set[PurePosixPath] = set()
    names: list[PurePosixPath] = []
    with tarfile.open(fileobj=stream, mode="r|", copybufsize=COPY_BUFFER) as tar:
        for member in tar:
            name = safe_member_name(member.name, archive=label)
            if not (member.isdir() or member.isreg() or member.issym()):
                what = "hard link" if member.islnk() else "special file"
                raise UnsafePathError(f"{label}: member {name} is a {what}; refused")
            kind = "dir" if member.isdir() else "other"
            if name in kinds and not (kind == "dir" == kinds[name]):
                raise UnsafePathError(f"{label}: member {name} appears twice; refused")
            if any(parent in links for parent in name.parents):
                raise UnsafePathError(f"{label}: member {name} lies below a link; refused")
            if member.issym():
                check_link(name, member.linkname, label)
                _check_link_chain(name, member.linkname, label)
                links.add(name)
            kinds[name] = kind
            source = tar.extractfile(member) if member.isreg() else None
            out.addfile(_fresh_info(member, name), source)
            names.append(name)
    out.close()
    return names
