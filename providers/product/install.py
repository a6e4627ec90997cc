"""New server homes from the product pack; archiving (then removing) a removed server's home.

The pack is read on the controller and streamed as tar into a staging folder on the
server's host, renamed into place as the home. A home is archived on its host as one
`tar.zst`: the host streams the home out as tar (`Transport.tar_out`), the controller
compresses it on the way back into an atomic write on the host, then reads it back in full
and compares it member by member with the home (names, types, sha256 of every file, the
file digests computed on the host). Only after that check passes is the home removed: a
home is never deleted without a verified copy.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from engine.contracts.facts import PackFacts
from providers.hosts.base import Transport
from providers.hosts.paths import exists, is_dir, is_empty_dir, is_file, put_tree, read_text
from providers.product.archive import ArchiveError, inspect_zip, read_member
from providers.product.ziptar import write_zip_tar

PRODUCT_FILE = "updates/product.txt"
LEVEL_FILE = "updates/config.json"
KERNEL_FILE = "bin/wso2carbon-version.txt"
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


def pack_kernel(pack: Path) -> str | None:
    """The Carbon kernel version a pack's `bin/wso2carbon-version.txt` names
    (`WSO2 Carbon Framework v4.9.0` -> `4.9.0`); None when it has none."""
    try:
        text = read_member(pack, f"{pack_top(pack)}/{KERNEL_FILE}", max_size=4096).decode()
    except (ArchiveError, UnicodeDecodeError):
        return None
    found = re.search(r"v(\d+(?:\.\d+)+)", text)
    return found.group(1) if found else None


def product_pack_facts(pack: Path, updates_dir: Path | None) -> PackFacts:
    """What `pack` installs, the kernel it runs on and the packages `updates_dir` holds for
    it by level (read from descriptors). Raises ArchiveError for an unreadable pack."""
    from providers.product.package_index import index_updates

    product, level = pack_facts(pack)
    updates = index_updates(updates_dir, product) if updates_dir is not None else None
    kernel = (updates.platform_version if updates is not None else None) or pack_kernel(pack)
    return PackFacts(product=product, update_level=level, platform_version=kernel,
                     packages={n: p.path for n, p in updates.levels.items()} if updates else {})


def install_pack(t: Transport, pack: Path, home: PurePosixPath) -> str:
    """Unpack `pack` (on the controller) into the new home `home` on host `t` (its top
    folder dropped), all or nothing.

    Idempotent: a home that already holds this pack's product is left alone. Returns a
    message. Raises InstallError when `home` holds something else, ArchiveError for an
    unsafe or corrupt pack (then nothing is written).
    """
    product, _level = pack_facts(pack)
    marker = read_text(t, home / PRODUCT_FILE) if is_dir(t, home) else None
    if marker is not None and marker.strip() == product:
        return f"{home} already holds {product}"
    if exists(t, home) and not is_empty_dir(t, home):
        raise InstallError(f"{home} exists and does not hold {product}; move it away or "
                           "point the server's home elsewhere")
    top = pack_top(pack)

    def produce(sink: BinaryIO) -> None:
        write_zip_tar(pack, sink, strip=top)

    put_tree(t, home, produce)
    return f"installed {product} from {pack.name} into {home}"


def _expected(t: Transport, home: PurePosixPath) -> dict[str, str]:
    """name -> 'dir', 'link' or the sha256 (hex) of a regular file, computed on the host."""
    out: dict[str, str] = {}
    for rel, st in t.walk(home):
        if st.kind == "link":
            out[rel.as_posix()] = "link"
        elif st.kind == "dir":
            out[rel.as_posix()] = "dir"
        elif st.kind == "file":
            out[rel.as_posix()] = t.sha256(home / rel).removeprefix("sha256:")
        else:
            raise InstallError(f"{home / rel} is a socket, FIFO or device; stop whatever uses "
                               "it before archiving the home")
    return out


def _compress(t: Transport, home: PurePosixPath, sink: BinaryIO) -> None:
    import zstandard

    with t.tar_out(home) as tar_stream, \
            zstandard.ZstdCompressor(level=3).stream_writer(sink, closefd=False) as zst:
        while chunk := tar_stream.read(CHUNK):
            zst.write(chunk)


def _read_back(t: Transport, archive: PurePosixPath) -> dict[str, str]:
    import zstandard

    out: dict[str, str] = {}
    with t.open_read(archive) as raw, \
            zstandard.ZstdDecompressor().stream_reader(raw) as zst, \
            tarfile.open(fileobj=zst, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.issym():
                out[name] = "link"
            elif member.isdir():
                out[name] = "dir"
            elif member.isfile():
                digest = hashlib.sha256()
                handle = tar.extractfile(member)
                while handle is not None and (chunk := handle.read(CHUNK)):
                    digest.update(chunk)
                out[name] = digest.hexdigest()
            else:
                out[name] = "special"
    return out


def archive_home(t: Transport, home: PurePosixPath, archive: PurePosixPath) -> ArchiveResult:
    """Write `home` into the tar.zst `archive` (both on host `t`) and verify it by reading
    it back.

    Returns what was archived. Raises InstallError when the home holds special files or
    the archive read back differs from the home (the archive is then removed and the
    home left untouched).
    """
    if not is_dir(t, home):
        raise InstallError(f"{home} is not a directory; nothing to archive")
    expected = _expected(t, home)
    t.mkdir(archive.parent)
    try:
        with t.open_write(archive, mode=0o600) as sink:
            _compress(t, home, sink)
        got = _read_back(t, archive)
        if got != expected:
            wrong = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
            raise InstallError(f"archive of {home} does not match the home at {wrong[0]} "
                               "(was it written to while archiving?); the home is kept")
    except BaseException:
        t.remove(archive)
        raise
    files = sum(1 for v in expected.values() if v not in ("dir", "link"))
    st = t.stat(archive)
    return ArchiveResult(archive=str(archive), files=files, bytes=st.size if st else 0)


def remove_home(t: Transport, home: PurePosixPath, archive: PurePosixPath) -> None:
    """Remove `home` once `archive` exists; refuses without it."""
    if not is_file(t, archive):
        raise InstallError(f"refusing to remove {home}: its archive {archive} is missing")
    t.remove_tree(home)
