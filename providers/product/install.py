"""New server homes from the product pack; archiving (then removing) a removed server's home.

A home is archived as one `tar.zst` written to a temporary file, fsynced and renamed into
place, then read back in full and compared member by member with the home (names, types,
sha256 of every file). Only after that check passes is the home removed: a home is never
deleted without a verified copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from providers.product.archive import ArchiveError, extract_zip, inspect_zip, read_member
from providers.product.updates import LEVEL_FILE

PRODUCT_FILE = "updates/product.txt"
CHUNK = 1 << 20


class InstallError(ValueError):
    """A home cannot be installed or archived; the message names the pack or home."""


class ArchiveResult(BaseModel):
    """A verified archive of a home."""

    model_config = ConfigDict(frozen=True)

    archive: str
    files: int
    bytes: int


def pack_top(pack: Path) -> str:
    """The single top folder of a product pack (e.g. `wso2am-4.2.0`).

    Raises ArchiveError for an unsafe or unreadable pack or one without exactly one top.
    """
    tops = {PurePosixPath(m.name).parts[0] for m in inspect_zip(pack)}
    if len(tops) != 1:
        raise ArchiveError(f"{pack}: a pack must hold exactly one top folder, found "
                           f"{', '.join(sorted(tops)) or 'none'}")
    return tops.pop()


def pack_facts(pack: Path) -> tuple[str, int]:
    """The product (`updates/product.txt`) and update level a pack installs.

    Raises ArchiveError when the pack is missing, unsafe or lacks `updates/product.txt`.
    """
    top = pack_top(pack)
    product = read_member(pack, f"{top}/{PRODUCT_FILE}").decode("utf-8").strip()
    try:
        raw = json.loads(read_member(pack, f"{top}/{LEVEL_FILE}"))
        level = int(raw.get("update-level", -1))
    except ArchiveError:
        level = -1
    except (ValueError, AttributeError, TypeError) as exc:
        raise ArchiveError(f"{pack}: {top}/{LEVEL_FILE} is unreadable ({exc})") from exc
    return product, level


def install_pack(pack: Path, home: Path) -> str:
    """Unpack `pack` into the new home `home` (its top folder dropped), all or nothing.

    Idempotent: a home that already holds this pack's product is left alone. Returns a
    message. Raises InstallError when `home` holds something else, ArchiveError for an
    unsafe or corrupt pack (then nothing is written).
    """
    product, _level = pack_facts(pack)
    marker = home / PRODUCT_FILE
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == product:
        return f"{home} already holds {product}"
    if home.is_symlink() or home.is_file() or (home.is_dir() and any(home.iterdir())):
        raise InstallError(f"{home} exists and does not hold {product}; move it away or "
                           "point the server's home elsewhere")
    extract_zip(pack, home, strip=pack_top(pack))
    return f"installed {product} from {pack.name} into {home}"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(home: Path) -> list[tuple[str, Path]]:
    """Every entry under `home` as (archive name, path), parents first, links not followed."""
    out: list[tuple[str, Path]] = [(".", home)]
    for dirpath, dirnames, filenames in os.walk(home, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            path = base / name
            out.append((path.relative_to(home).as_posix(), path))
    return out


def _expected(home: Path) -> dict[str, str]:
    """name -> 'dir', 'link:<target>' or the sha256 of a regular file."""
    out: dict[str, str] = {}
    for name, path in _walk(home):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            out[name] = "link:" + str(path.readlink())
        elif stat.S_ISDIR(mode):
            out[name] = "dir"
        elif stat.S_ISREG(mode):
            out[name] = _digest(path)
        else:
            raise InstallError(f"{path} is a socket, FIFO or device; stop whatever uses it "
                               "before archiving the home")
    return out


def _write_tar(home: Path, tmp: Path) -> None:
    import zstandard

    with tmp.open("wb") as raw:
        with zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False) as zst, \
                tarfile.open(fileobj=zst, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, path in _walk(home):
                tar.add(path, arcname=name, recursive=False)
        raw.flush()
        os.fsync(raw.fileno())


def _read_back(archive: Path) -> dict[str, str]:
    import zstandard

    out: dict[str, str] = {}
    with archive.open("rb") as raw, \
            zstandard.ZstdDecompressor().stream_reader(raw) as zst, \
            tarfile.open(fileobj=zst, mode="r|") as tar:
        for member in tar:
            if member.issym():
                out[member.name] = "link:" + member.linkname
            elif member.isdir():
                out[member.name] = "dir"
            elif member.isfile():
                digest = hashlib.sha256()
                handle = tar.extractfile(member)
                while handle is not None and (chunk := handle.read(CHUNK)):
                    digest.update(chunk)
                out[member.name] = digest.hexdigest()
            else:
                out[member.name] = "special"
    return out


def archive_home(home: Path, archive: Path) -> ArchiveResult:
    """Write `home` into the tar.zst `archive` and verify it by reading it back.

    Returns what was archived. Raises InstallError when the home holds special files or
    the archive read back differs from the home (the archive is then removed and the
    home left untouched).
    """
    if not home.is_dir():
        raise InstallError(f"{home} is not a directory; nothing to archive")
    expected = _expected(home)
    archive.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".tmp", dir=archive.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _write_tar(home, tmp)
        got = _read_back(tmp)
        if got != expected:
            wrong = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
            raise InstallError(f"archive of {home} does not match the home at {wrong[0]} "
                               "(was it written to while archiving?); the home is kept")
        tmp.replace(archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    files = sum(1 for v in expected.values() if v != "dir" and not v.startswith("link:"))
    return ArchiveResult(archive=str(archive), files=files, bytes=archive.stat().st_size)


def remove_home(home: Path, archive: Path) -> None:
    """Remove `home` once `archive` exists; refuses without it."""
    if not archive.is_file():
        raise InstallError(f"refusing to remove {home}: its archive {archive} is missing")
    if home.is_dir():
        shutil.rmtree(home)
