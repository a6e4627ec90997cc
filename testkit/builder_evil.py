"""Broken and hostile archives for tests and the demo: corrupted data, unsafe members."""

from __future__ import annotations

import stat
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Literal

from testkit.builder_zip import FIXED_TIME, write_atomic

EvilKind = Literal["dotdot", "absolute", "symlink", "device", "fifo", "backslash",
                   "duplicate"]
EVIL_KINDS: tuple[str, ...] = ("dotdot", "absolute", "symlink", "device", "fifo",
                               "backslash", "duplicate")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _member(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def build_evil_zip(out: Path, kind: EvilKind = "dotdot") -> Path:
    """Write to `out` a zip whose members start harmless and end with one unsafe member.

    Kinds: ``dotdot`` (``top/../../evil.txt``), ``absolute`` (``/drydock-evil/escaped.txt``),
    ``symlink`` (a link to /etc/passwd), ``device`` (a character device), ``fifo``,
    ``backslash`` (``top\\..\\evil.txt``) and ``duplicate`` (the same name twice).
    Returns `out`. Raises ValueError for an unknown kind.
    """
    if kind not in EVIL_KINDS:
        raise ValueError(f"unknown evil zip kind {kind!r}; use one of {', '.join(EVIL_KINDS)}")
    regular = stat.S_IFREG | 0o644
    bad: dict[str, tuple[str, int, bytes]] = {
        "dotdot": ("top/../../evil.txt", regular, b"escaped\n"),
        "absolute": ("/drydock-evil/escaped.txt", regular, b"escaped\n"),
        "symlink": ("top/bin/link", stat.S_IFLNK | 0o777, b"/etc/passwd"),
        "device": ("top/dev-null", stat.S_IFCHR | 0o666, b""),
        "fifo": ("top/pipe", stat.S_IFIFO | 0o644, b""),
        "backslash": ("top\\..\\evil.txt", regular, b"escaped\n"),
        "duplicate": ("top/readme.txt", regular, b"second copy\n"),
    }
    name, mode, data = bad[kind]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns on duplicate names
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_member("top/", stat.S_IFDIR | 0o755), b"")
            zf.writestr(_member("top/readme.txt", regular), b"harmless\n")
            zf.writestr(_member(name, mode), data)
    tmp.replace(out)
    return out


def corrupt(path: Path, *, how: Literal["flip", "truncate"] = "flip",
            member: str | None = None) -> Path:
    """Damage the zip at `path` in place and return `path`.

    ``flip`` inverts one byte in the middle of a member's compressed data (the largest
    file, or `member`), so the archive still opens but reading that member fails its
    CRC or inflate check. ``truncate`` cuts the file in half, losing the central
    directory. Raises ValueError for an unknown `how` or a missing `member`.
    """
    data = bytearray(path.read_bytes())
    if how == "truncate":
        write_atomic(path, bytes(data[: len(data) // 2]))
        return path
    if how != "flip":
        raise ValueError(f"corrupt: unknown how={how!r}; use 'flip' or 'truncate'")
    with zipfile.ZipFile(path) as zf:
        files = [i for i in zf.infolist() if not i.is_dir() and i.compress_size > 0]
    if member is not None:
        files = [i for i in files if i.filename == member]
    if not files:
        raise ValueError(f"{path}: no member {member or '(any file)'} with data to corrupt")
    target = max(files, key=lambda i: i.compress_size)
    fields = _LOCAL_HEADER.unpack_from(data, target.header_offset)
    name_len, extra_len = fields[-2], fields[-1]
    start = target.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    data[start + target.compress_size // 2] ^= 0xFF
    write_atomic(path, bytes(data))
    return path
