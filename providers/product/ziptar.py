"""Zip archives from the controller streamed to a host as tar (to `Transport.tar_in`).

Packs, update packages and patch archives stay where drydock runs; the members a change
installs travel as one uncompressed tar stream, each checked (name, type, size, CRC) by
the same rules as `archive.extract_zip`, with its sha256 computed on the way.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from providers.product.archive import (
    _CHUNK,
    _READ_ERRORS,
    DEFAULT_MAX_MEMBERS,
    DEFAULT_MAX_TOTAL_SIZE,
    ArchiveError,
    ZipMember,
    _members,
    _open,
    _option,
    _select,
)


def write_zip_tar(path: Path, sink: BinaryIO, *, strip: str | None = None,
                  only: str | None = None, max_members: int = DEFAULT_MAX_MEMBERS,
                  max_total_size: int = DEFAULT_MAX_TOTAL_SIZE) -> dict[str, str]:
    """Stream the zip at `path` into `sink` as an uncompressed tar (to `Transport.tar_in`).

    `only` and `strip` select and rename members as in `extract_zip`; every member is
    checked before the first byte is written, and each one's size and CRC while it is
    copied. Files get mode 0755 when the archive marks them executable, else 0644.
    Returns name -> `sha256:<hex>` of every file written. Raises ArchiveError (see
    `inspect_zip`); the sink then holds a cut-short stream its reader must refuse.
    """
    label = str(path)
    only_rel = _option(only, "only", label)
    strip_rel = _option(strip, "strip", label)
    sums: dict[str, str] = {}
    with _open(path) as zf:
        plan = []
        for info, member in _members(zf, label, max_members, max_total_size):
            rel = _select(member, only_rel, strip_rel, label)
            if rel is not None:
                plan.append((info, member, rel))
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for info, member, rel in plan:
                entry = tarfile.TarInfo(rel.as_posix())
                entry.mtime = int(datetime(*info.date_time).timestamp())
                if member.is_dir:
                    entry.type, entry.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(entry)
                    continue
                entry.size, entry.mode = member.size, 0o755 if member.executable else 0o644
                sums[rel.as_posix()] = _copy_to_tar(zf, info, member, tar, entry, label)
    return sums


def _copy_to_tar(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: ZipMember,
                 tar: tarfile.TarFile, entry: tarfile.TarInfo, label: str) -> str:
    """Add one zip member to the tar, checking its size and CRC; returns its sha256."""
    digest = hashlib.sha256()

    class _Checked(io.RawIOBase):
        def __init__(self, src: BinaryIO) -> None:
            self.src, self.seen = src, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            data = self.src.read(len(buffer))
            self.seen += len(data)
            if self.seen > member.size:
                raise ArchiveError(f"{label}: member {member.name!r} holds more data than its "
                                   "header declares")
            digest.update(data)
            buffer[:len(data)] = data
            return len(data)

    try:
        with zf.open(info) as src:
            checked = _Checked(src)  # type: ignore[arg-type]
            tar.addfile(entry, io.BufferedReader(checked, _CHUNK))
            if src.read(1):
                raise ArchiveError(f"{label}: member {member.name!r} holds more data than "
                                   "its header declares")
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise ArchiveError(f"{label}: member {member.name!r} is corrupt or truncated "
                           f"({exc}); fetch or rebuild the archive") from exc
    return "sha256:" + digest.hexdigest()
