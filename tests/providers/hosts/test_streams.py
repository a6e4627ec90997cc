"""Tar streams from the controller to a host: zip members streamed as tar land exactly as
`extract_zip` writes them, a failing producer's error wins over the cut-short stream, and
a tar re-written member by member keeps only what is safe."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pytest

from providers.hosts.local import LocalTransport
from providers.hosts.paths import put_tree
from providers.hosts.streams import copy_members, piped
from providers.product.archive import ArchiveError, extract_zip
from providers.product.install import pack_top
from providers.product.ziptar import write_zip_tar
from safefs.pathsafety import UnsafePathError
from testkit.builder import build_evil_zip, build_pack
from tests.helpers.servers import tree


def test_a_pack_streamed_to_a_host_is_the_home_extract_zip_makes(tmp_path: Path) -> None:
    pack = build_pack(tmp_path / "packs")
    top = pack_top(pack)
    extract_zip(pack, tmp_path / "reference", strip=top)
    sums: dict[str, str] = {}

    def produce(sink: BinaryIO) -> None:
        sums.update(write_zip_tar(pack, sink, strip=top))

    put_tree(LocalTransport(), PurePosixPath(tmp_path / "streamed"), produce)
    assert tree(tmp_path / "streamed") == tree(tmp_path / "reference")
    assert (tmp_path / "streamed" / "bin" / "api-manager.sh").stat().st_mode & 0o111
    assert sums["updates/product.txt"].startswith("sha256:")


@pytest.mark.parametrize("kind", ["dotdot", "symlink", "fifo", "duplicate"])
def test_an_unsafe_archive_leaves_nothing_on_the_host(tmp_path: Path, kind: str) -> None:
    evil = build_evil_zip(tmp_path / "evil.zip", kind)  # type: ignore[arg-type]
    dest = tmp_path / "host" / "home"
    with pytest.raises(ArchiveError):
        put_tree(LocalTransport(), PurePosixPath(dest),
                 lambda sink: write_zip_tar(evil, sink, strip="top"))
    assert not dest.exists() and list((tmp_path / "host").iterdir()) == []


def test_a_corrupt_member_is_found_while_streaming_and_nothing_is_placed(
        tmp_path: Path) -> None:
    pack = build_pack(tmp_path / "packs")
    data = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    pack.write_bytes(bytes(data))
    dest = tmp_path / "host" / "home"
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        put_tree(LocalTransport(), PurePosixPath(dest),
                 lambda sink: write_zip_tar(pack, sink, strip=pack_top(pack)))
    assert not dest.exists()


def test_the_producers_error_wins_and_a_failing_consumer_stops_the_producer() -> None:
    def broken(sink: BinaryIO) -> None:
        sink.write(b"x" * 1000)
        raise ArchiveError("pack.zip: member 'a' is corrupt")

    def reads_tar(stream: BinaryIO) -> None:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            list(tar)

    with pytest.raises(ArchiveError, match="member 'a' is corrupt"):
        piped(broken, reads_tar)

    def endless(sink: BinaryIO) -> None:
        while True:
            sink.write(b"\0" * 65536)

    def refuses(_stream: BinaryIO) -> None:
        raise OSError("node-a: disk full")

    with pytest.raises(OSError, match="disk full"):
        piped(endless, refuses)
    assert piped(lambda sink: sink.write(b"abc"), lambda s: s.read()) == b"abc"


def _tar(*members: tuple[str, str, str]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(extra)
                tar.addfile(info, io.BytesIO(extra.encode()))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                         "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            info.linkname = extra
            tar.addfile(info)
    out.seek(0)
    return out


def test_copy_members_keeps_what_is_safe_and_wanted() -> None:
    source = _tar(("conf", "dir", ""), ("conf/a.xml", "file", "a"), ("conf/l", "sym", "a.xml"),
                  ("conf/out", "sym", "../../etc/passwd"), ("conf/p", "fifo", ""),
                  ("logs/x.log", "file", "x"))
    sink = io.BytesIO()
    done = copy_members(source, sink, label="t", only=[PurePosixPath("conf")], strict=False)
    assert [n.as_posix() for n in done.names] == ["conf", "conf/a.xml", "conf/l"]
    assert len(done.warnings) == 2 and (done.files, done.dirs, done.links) == (1, 1, 1)
    sink.seek(0)
    with tarfile.open(fileobj=sink) as tar:
        assert tar.getnames() == ["conf", "conf/a.xml", "conf/l"]


@pytest.mark.parametrize("member", [("../x", "file", "x"), ("/etc/x", "file", "x"),
                                    ("a", "hard", "b"), ("l", "sym", "/etc/passwd")])
def test_copy_members_refuses_unsafe_members_when_strict(member: tuple[str, str, str]) -> None:
    with pytest.raises(UnsafePathError):
        copy_members(_tar(member), io.BytesIO(), label="snapshot s1")
