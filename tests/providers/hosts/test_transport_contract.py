"""The transport contract, part 1: facts, file streams and tree changes, run against every
transport (`local`, and `ssh` through a real sshd that sees the files only in its own mount
namespace). Commands and tar streams: test_transport_contract_run_tar.py."""

from __future__ import annotations

import hashlib
import os
import stat as stat_mod
from pathlib import Path, PurePosixPath

import pytest

from providers.hosts.base import HostError
from tests.providers.hosts.conftest import HostArea

MIB = 1 << 20
ODD_NAMES = ["with space", "new\nline", "quote'\"s", "dollar$HOME", "-leading-dash",
             "back\\slash", "star*?", "ünïcødé", "semi;colon", "tab\there"]


def _big(path: Path, size: int) -> str:
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = block[:min(left, len(block))]
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


# -- facts --------------------------------------------------------------------------------
def test_stat_reports_what_lstat_sees(host: HostArea) -> None:
    (host.backing / "f").write_bytes(b"12345")
    (host.backing / "f").chmod(0o640)
    (host.backing / "d").mkdir()
    (host.backing / "l").symlink_to("f")
    os.mkfifo(host.backing / "p")
    for name, kind in [("f", "file"), ("d", "dir"), ("l", "link"), ("p", "other")]:
        got = host.transport.stat(host.root / name)
        real = os.lstat(host.backing / name)
        assert got is not None and got.kind == kind
        assert (got.size, got.mtime_ns, got.inode, got.mode) == (
            real.st_size, real.st_mtime_ns, real.st_ino, stat_mod.S_IMODE(real.st_mode))
    assert host.transport.stat(host.root / "absent") is None
    assert host.transport.stat(host.root / "f" / "below-a-file") is None


def test_list_dir_is_sorted_and_empty_when_absent(host: HostArea) -> None:
    for name in ["b", "a", "c c"]:
        (host.backing / name).write_text(name)
    (host.backing / "sub").mkdir()
    entries = host.transport.list_dir(host.root)
    assert [e.name for e in entries] == ["a", "b", "c c", "sub"]
    assert entries[3].stat.kind == "dir" and entries[0].stat.size == 1
    assert host.transport.list_dir(host.root / "absent") == []
    assert host.transport.list_dir(host.root / "a") == []


def test_walk_reports_every_odd_name_parents_first_and_never_follows_links(
        host: HostArea, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not to be walked")
    top = host.backing / "t"
    for name in ODD_NAMES:
        (top / name).mkdir(parents=True)
        (top / name / name).write_text(name)
    (top / "to-outside").symlink_to(outside)
    found = list(host.transport.walk(host.root / "t"))
    names = [p.as_posix() for p, _ in found]
    expected = {*ODD_NAMES, *(f"{n}/{n}" for n in ODD_NAMES), "to-outside"}
    assert set(names) == expected and len(names) == len(expected)
    for index, (path, _) in enumerate(found):
        if len(path.parts) > 1:
            assert path.parent.as_posix() in names[:index], f"{path} came before its parent"
    kinds = {p.as_posix(): s.kind for p, s in found}
    assert kinds["to-outside"] == "link" and kinds[ODD_NAMES[0]] == "dir"
    assert kinds[f"{ODD_NAMES[1]}/{ODD_NAMES[1]}"] == "file"
    assert list(host.transport.walk(host.root / "absent")) == []


def test_realpath_resolves_links_and_keeps_the_missing_tail(host: HostArea) -> None:
    (host.backing / "real").mkdir()
    (host.backing / "link").symlink_to("real")
    assert host.transport.realpath(host.root / "link" / "no" / "such") == \
        host.root / "real" / "no" / "such"
    assert host.transport.realpath(host.root / "real") == host.root / "real"


def test_sha256_is_computed_on_the_host_and_errors_name_the_host(host: HostArea) -> None:
    digest = _big(host.backing / "big", 3 * MIB + 17)
    assert host.transport.sha256(host.root / "big") == f"sha256:{digest}"
    with pytest.raises(HostError) as info:
        host.transport.sha256(host.root / "absent")
    assert str(info.value).startswith(f"{host.transport.host}: ")
    assert "\n" not in str(info.value)
    with pytest.raises(HostError):
        host.transport.sha256(host.root)


def _near(got: int, backing: Path) -> bool:
    """`got` is what statvfs says of `backing` now (others write on this disk meanwhile)."""
    st = os.statvfs(backing)
    want = st.f_bavail * st.f_frsize
    return abs(got - want) <= max(64 * MIB, want // 100) and got <= st.f_blocks * st.f_frsize


def test_free_bytes_is_statvfs_of_the_path_or_its_nearest_existing_parent(host: HostArea
                                                                          ) -> None:
    (host.backing / "f").write_bytes(b"x")
    free = host.transport.free_bytes(host.root)
    assert free > 0 and _near(free, host.backing)
    assert _near(host.transport.free_bytes(host.root / "f"), host.backing)
    assert _near(host.transport.free_bytes(host.root / "not" / "yet" / "there"), host.backing)
    assert not (host.backing / "not").exists()


# -- file content -------------------------------------------------------------------------
def test_open_read_streams_a_multi_mib_file_in_chunks(host: HostArea) -> None:
    digest = _big(host.backing / "big", 5 * MIB + 3)
    seen = hashlib.sha256()
    reads = 0
    with host.transport.open_read(host.root / "big") as handle:
        while chunk := handle.read(256 << 10):
            assert len(chunk) <= 256 << 10
            seen.update(chunk)
            reads += 1
    assert seen.hexdigest() == digest and reads >= 20
    with pytest.raises(HostError, match="larger than"):
        host.transport.read_bytes(host.root / "big", limit=MIB)
    with pytest.raises(HostError):
        with host.transport.open_read(host.root / "absent"):
            pass


def test_open_write_streams_creates_parents_sets_mode_and_renames(host: HostArea) -> None:
    target = host.root / "new" / "deeper" / "big.bin"
    block = os.urandom(64 << 10)
    with host.transport.open_write(target, mode=0o600) as handle:
        for _ in range(64):  # 4 MiB in small writes
            handle.write(block)
        assert not (host.backing / "new" / "deeper" / "big.bin").exists()
    real = host.backing / "new" / "deeper" / "big.bin"
    assert real.read_bytes() == block * 64
    assert stat_mod.S_IMODE(real.stat().st_mode) == 0o600
    assert os.listdir(real.parent) == ["big.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(host: HostArea) -> None:
    (host.backing / "conf.toml").write_text("old")
    with pytest.raises(RuntimeError, match="template failed"):
        with host.transport.open_write(host.root / "conf.toml") as handle:
            handle.write(b"half of the new content" * 100_000)
            raise RuntimeError("template failed")
    assert (host.backing / "conf.toml").read_text() == "old"
    assert os.listdir(host.backing) == ["conf.toml"]


def test_write_atomic_replaces_by_rename(host: HostArea) -> None:
    (host.backing / "f").write_text("old")
    before = os.stat(host.backing / "f").st_ino
    host.transport.write_atomic(host.root / "f", b"new", mode=0o640)
    assert (host.backing / "f").read_bytes() == b"new"
    assert os.stat(host.backing / "f").st_ino != before
    assert host.transport.read_bytes(host.root / "f") == b"new"


# -- tree changes -------------------------------------------------------------------------
def test_mkdir_makes_parents_and_accepts_an_existing_folder(host: HostArea) -> None:
    host.transport.mkdir(host.root / "a" / "b" / "c", mode=0o750)
    host.transport.mkdir(host.root / "a" / "b" / "c")
    assert (host.backing / "a" / "b" / "c").is_dir()
    host.transport.mkdir(host.root / "a" / "single", parents=False)
    assert (host.backing / "a" / "single").is_dir()
    with pytest.raises(HostError):
        host.transport.mkdir(host.root / "x" / "y", parents=False)


def test_rename_replaces_and_missing_source_fails(host: HostArea) -> None:
    (host.backing / "a").write_text("a")
    (host.backing / "b").write_text("b")
    host.transport.rename(host.root / "a", host.root / "b")
    assert (host.backing / "b").read_text() == "a" and not (host.backing / "a").exists()
    (host.backing / "dir").mkdir()
    host.transport.rename(host.root / "dir", host.root / "moved")
    assert (host.backing / "moved").is_dir()
    with pytest.raises(HostError):
        host.transport.rename(host.root / "absent", host.root / "c")


def test_remove_takes_files_links_and_empty_folders_only(host: HostArea) -> None:
    (host.backing / "f").write_text("f")
    (host.backing / "l").symlink_to("f")
    (host.backing / "empty").mkdir()
    (host.backing / "full").mkdir()
    (host.backing / "full" / "x").write_text("x")
    assert host.transport.remove(host.root / "l") is True
    assert (host.backing / "f").exists()
    assert host.transport.remove(host.root / "f") is True
    assert host.transport.remove(host.root / "empty") is True
    assert host.transport.remove(host.root / "absent") is False
    with pytest.raises(HostError):
        host.transport.remove(host.root / "full")
    assert (host.backing / "full" / "x").exists()


def test_remove_tree_never_follows_links(host: HostArea, tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_text("p")
    tree = host.backing / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("f")
    (tree / "link").symlink_to(keep)
    assert host.transport.remove_tree(host.root / "tree") is True
    assert not tree.exists() and (keep / "precious").read_text() == "p"
    assert host.transport.remove_tree(host.root / "tree") is False


@pytest.mark.parametrize("link", [False, True])
def test_copy_tree_keeps_modes_mtimes_and_links(host: HostArea, link: bool) -> None:
    src = host.backing / "src"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (src / "bin" / "run.sh").chmod(0o750)
    os.utime(src / "bin" / "run.sh", (1_600_000_000, 1_600_000_000))
    (src / "current").symlink_to("bin")
    host.transport.copy_tree(host.root / "src", host.root / "out" / "dst", link=link)
    dst = host.backing / "out" / "dst"
    copied = os.stat(dst / "bin" / "run.sh")
    assert stat_mod.S_IMODE(copied.st_mode) == 0o750
    assert int(copied.st_mtime) == 1_600_000_000
    assert os.readlink(dst / "current") == "bin"
    shared = copied.st_ino == os.stat(src / "bin" / "run.sh").st_ino
    assert shared is link
    with pytest.raises(HostError):
        host.transport.copy_tree(host.root / "absent", host.root / "x")


def test_chmod_sets_permission_bits(host: HostArea) -> None:
    (host.backing / "f").write_text("f")
    host.transport.chmod(host.root / "f", 0o604)
    assert stat_mod.S_IMODE(os.stat(host.backing / "f").st_mode) == 0o604
    with pytest.raises(HostError):
        host.transport.chmod(host.root / "absent", 0o600)


def test_paths_are_posix_paths_on_the_host(host: HostArea) -> None:
    host.transport.write_atomic(host.root / "p.txt", b"x")
    assert isinstance(host.transport.realpath(host.root / "p.txt"), PurePosixPath)


def test_every_failure_is_one_line_naming_the_host(host: HostArea) -> None:
    (host.backing / "full").mkdir()
    (host.backing / "full" / "x").write_text("x")
    t, r = host.transport, host.root
    failures = [lambda: t.sha256(r / "absent"), lambda: t.read_bytes(r / "absent"),
                lambda: t.rename(r / "absent", r / "b"), lambda: t.remove(r / "full"),
                lambda: t.copy_tree(r / "absent", r / "c"), lambda: t.chmod(r / "absent", 0o600),
                lambda: t.mkdir(r / "a" / "b", parents=False)]
    for failing in failures:
        with pytest.raises(HostError) as info:
            failing()
        message = str(info.value)
        assert message.startswith(f"{t.host}: ") and "\n" not in message, message


def test_a_closed_transport_can_be_used_again(host: HostArea) -> None:
    host.transport.write_atomic(host.root / "f", b"x")
    host.transport.close()
    assert host.transport.read_bytes(host.root / "f") == b"x"
