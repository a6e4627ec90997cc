"""Tests for safe zip inspection, extraction and member reads."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from providers.product.archive import ArchiveError, extract_zip, inspect_zip, read_member
from testkit.builder import EVIL_KINDS, build_evil_zip, build_pack, corrupt


def _zip(path: Path, members: dict[str, bytes], *, modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if modes and name in modes:
                info.create_system = 3
                info.external_attr = modes[name] << 16
            zf.writestr(info, data)
    return path


def _everything_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def test_inspect_lists_normalised_members_with_modes(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"./top/": b"", "top/run.sh": b"#!/bin/sh\n",
                                         "top/data.txt": b"hello"},
                   modes={"top/run.sh": stat.S_IFREG | 0o755})
    members = inspect_zip(archive)
    assert [m.name for m in members] == ["top", "top/run.sh", "top/data.txt"]
    assert members[0].is_dir
    assert members[1].executable and members[1].size == len(b"#!/bin/sh\n")
    assert not members[2].executable and members[2].mode == 0o600


@pytest.mark.parametrize("kind", EVIL_KINDS)
def test_extract_refuses_each_evil_kind_before_writing(tmp_path: Path, kind: str) -> None:
    archive = build_evil_zip(tmp_path / "evil.zip", kind)
    dest = tmp_path / "out" / "dest"
    with pytest.raises(ArchiveError) as err:
        extract_zip(archive, dest)
    message = str(err.value)
    assert str(archive) in message
    assert "readme" in message or "evil" in message or "link" in message \
        or "dev-null" in message or "pipe" in message
    assert _everything_under(tmp_path) == {archive}


@pytest.mark.parametrize("kind", EVIL_KINDS)
def test_inspect_refuses_each_evil_kind(tmp_path: Path, kind: str) -> None:
    archive = build_evil_zip(tmp_path / "evil.zip", kind)
    with pytest.raises(ArchiveError, match="evil.zip"):
        inspect_zip(archive)


def test_refusal_names_the_bad_member(tmp_path: Path) -> None:
    archive = build_evil_zip(tmp_path / "evil.zip", "dotdot")
    with pytest.raises(ArchiveError, match=r"top/\.\./\.\./evil\.txt"):
        extract_zip(archive, tmp_path / "dest")


def test_file_used_as_directory_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"top/a": b"file", "top/a/b": b"under a file"})
    with pytest.raises(ArchiveError, match="which is a file"):
        extract_zip(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_corrupt_member_data_leaves_no_partial_destination(tmp_path: Path) -> None:
    pack = build_pack(tmp_path / "packs")
    corrupt(pack, how="flip")
    inspect_zip(pack)  # the directory is intact; only member data is damaged
    dest = tmp_path / "homes" / "gw-1"
    (tmp_path / "homes").mkdir()
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        extract_zip(pack, dest, strip="wso2am-4.2.0")
    assert not dest.exists()
    assert list((tmp_path / "homes").iterdir()) == []


def test_truncated_zip_is_refused_by_inspect_and_extract(tmp_path: Path) -> None:
    pack = corrupt(build_pack(tmp_path), how="truncate")
    with pytest.raises(ArchiveError, match="not a readable zip"):
        inspect_zip(pack)
    with pytest.raises(ArchiveError, match=str(pack)):
        extract_zip(pack, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_missing_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="archive not found"):
        inspect_zip(tmp_path / "nope.zip")


def test_header_understating_size_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"big.txt": b"x" * 4096})
    data = bytearray(archive.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        struct.pack_into("<L", data, at + size_at, 16)
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="big.txt"):
        extract_zip(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_member_count_and_total_size_caps(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {f"f{i}.txt": b"0123456789" for i in range(5)})
    with pytest.raises(ArchiveError, match="zip bomb"):
        inspect_zip(archive, max_members=4)
    with pytest.raises(ArchiveError, match="zip bomb"):
        extract_zip(archive, tmp_path / "dest", max_total_size=45)
    assert not (tmp_path / "dest").exists()
    assert len(extract_zip(archive, tmp_path / "dest", max_total_size=50)) == 5


def test_extract_strip_only_and_modes(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {
        "top/": b"", "top/bin/run.sh": b"#!/bin/sh\n", "top/conf/a.toml": b"a = 1\n",
        "top/conf/sub/b.toml": b"b = 2\n"},
        modes={"top/bin/run.sh": stat.S_IFREG | 0o755, "top/conf/a.toml": stat.S_IFREG | 0o600})
    home = tmp_path / "home"
    written = extract_zip(archive, home, strip="top")
    assert written == [home / "bin/run.sh", home / "conf/a.toml", home / "conf/sub/b.toml"]
    assert (home / "bin/run.sh").stat().st_mode & 0o777 == 0o755
    assert (home / "conf/a.toml").stat().st_mode & 0o777 == 0o644
    conf = tmp_path / "conf"
    assert extract_zip(archive, conf, only="top/conf", strip="top/conf") == [
        conf / "a.toml", conf / "sub/b.toml"]
    assert not (conf / "bin").exists()


def test_member_outside_strip_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"top/a.txt": b"a", "other/b.txt": b"b"})
    with pytest.raises(ArchiveError, match="other/b.txt"):
        extract_zip(archive, tmp_path / "dest", strip="top")
    assert not (tmp_path / "dest").exists()


def test_unsafe_strip_argument_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"top/a.txt": b"a"})
    with pytest.raises(ArchiveError, match="climbs out"):
        extract_zip(archive, tmp_path / "dest", strip="../top")


def test_non_empty_destination_is_refused_and_untouched(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"a.txt": b"new"})
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("old")
    with pytest.raises(ArchiveError, match="not an empty directory"):
        extract_zip(archive, dest)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]


def test_empty_destination_directory_is_filled(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"a.txt": b"new"})
    dest = tmp_path / "dest"
    dest.mkdir()
    extract_zip(archive, dest)
    assert (dest / "a.txt").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_read_member_returns_bytes_and_refuses_bad_requests(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"desc.yaml": b"update_number: '0001'\n",
                                         "big.bin": b"y" * 100})
    assert read_member(archive, "desc.yaml") == b"update_number: '0001'\n"
    assert read_member(archive, "./desc.yaml") == b"update_number: '0001'\n"
    with pytest.raises(ArchiveError, match="has no member 'missing.yaml'"):
        read_member(archive, "missing.yaml")
    with pytest.raises(ArchiveError, match="over the 10-byte limit"):
        read_member(archive, "big.bin", max_size=10)
    with pytest.raises(ArchiveError, match="climbs out"):
        read_member(archive, "../desc.yaml")


def test_read_member_detects_corrupt_data(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"desc.yaml": b"checksums: {}\n" * 200})
    corrupt(archive, how="flip", member="desc.yaml")
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        read_member(archive, "desc.yaml")


def test_data_before_or_after_the_archive_is_refused(tmp_path: Path) -> None:
    body = _zip(tmp_path / "a.zip", {"a.txt": b"a"}).read_bytes()
    prefixed = tmp_path / "prefixed.zip"
    prefixed.write_bytes(b"#!/bin/sh\nexit 0\n" + body)
    with pytest.raises(ArchiveError, match="before its first member"):
        inspect_zip(prefixed)
    trailing = tmp_path / "trailing.zip"
    trailing.write_bytes(body + b"junk")
    with pytest.raises(ArchiveError, match="data after its end record"):
        extract_zip(trailing, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
