"""Extracting untrusted tar parts: every unsafe member is refused, nothing lands outside."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from providers.repositories.tarpart import extract_tar, top_units
from safefs.pathsafety import UnsafePathError


def make_tar(*members: tuple[str, str, str | bytes]) -> io.BytesIO:
    """Build a tar in memory from (kind, name, payload) with kind file|dir|sym|hard|fifo|chr."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            if kind == "file":
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                         "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
                         "chr": tarfile.CHRTYPE}[kind]
            info.linkname = str(payload)
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def everything_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("file", "/etc/evil", "x")], "absolute path"),
        ([("file", "../evil", "x")], "climbs out"),
        ([("file", "a/../../evil", "x")], "climbs out"),
        ([("sym", "link", "/etc")], "points to absolute"),
        ([("sym", "a/link", "../../outside")], "escapes the root"),
        ([("sym", "up", "..")], "escapes the root"),
        ([("file", "a", "x"), ("hard", "b", "a")], "hard link"),
        ([("fifo", "pipe", "")], "special file"),
        ([("chr", "null", "")], "special file"),
        ([("file", "a", "x"), ("file", "a", "y")], "appears twice"),
        ([("file", "a", "x"), ("dir", "a", "")], "appears twice"),
        ([("file", "a\\b", "x")], "backslash"),
        # chains: each link looks harmless alone, followed through the others it leaves
        ([("sym", "a", "b"), ("sym", "b", "../../etc")], "escapes the root"),
        ([("dir", "home", ""), ("sym", "home/a", "b"), ("sym", "home/b", "../../etc")],
         "escapes the root"),
        ([("sym", "l", "."), ("sym", "l/m", "../etc")], "resolves outside"),
        ([("sym", "a", "x/.."), ("sym", "x", ".")], "resolves outside"),
        ([("dir", "d", ""), ("sym", "d/a", "x/../.."), ("sym", "d/x", ".")],
         "resolves outside"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_escapes(tmp_path, members, message):
    staging = tmp_path / "root" / "staging"
    staging.mkdir(parents=True)
    with pytest.raises(UnsafePathError, match=message):
        extract_tar(make_tar(*members), staging, only=None, archive="test part")
    outside = everything_under(tmp_path) - {"root", "root/staging"}
    assert all(p.startswith("root/staging/") for p in outside)  # staging is thrown away


def test_a_link_inside_then_a_file_through_it_stays_inside(tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    tar = make_tar(("dir", "conf", ""), ("sym", "current", "conf"),
                   ("file", "current/app.toml", "port = 1"), ("sym", "conf/lib", "../libs/x.jar"))
    names = extract_tar(tar, staging, only=None, archive="test part")
    assert (staging / "conf" / "app.toml").read_text() == "port = 1"
    assert (staging / "current").readlink() == Path("conf")
    assert [n.as_posix() for n in names] == ["conf", "current", "current/app.toml", "conf/lib"]


def test_a_link_that_redirects_a_later_member_outside_is_refused(tmp_path):
    inner = tmp_path / "root"
    staging = inner / "staging"
    staging.mkdir(parents=True)
    # A relative link that is lexically fine ("x/..") but becomes an escape once "x"
    # itself is a link to ".." : the write through it must still be refused.
    tar = make_tar(("sym", "x", "."), ("sym", "y", "x/.."), ("file", "y/evil", "boom"))
    with pytest.raises(UnsafePathError):
        extract_tar(tar, staging, only=None, archive="test part")
    assert not (inner / "evil").exists() and not (tmp_path / "evil").exists()


def test_only_keeps_the_chosen_paths(tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    tar = make_tar(("dir", "conf", ""), ("file", "conf/a", "1"), ("file", "conf/b", "2"),
                   ("dir", "lib", ""), ("file", "lib/x", "3"))
    names = extract_tar(tar, staging, only=[PurePosixPath("conf/b"), PurePosixPath("lib")],
                        archive="test part")
    assert everything_under(staging) == {"conf", "conf/b", "lib", "lib/x"}
    assert top_units(names) == [PurePosixPath("conf/b"), PurePosixPath("lib")]


@pytest.mark.parametrize("second", ["a/a", "a/a/a"])
def test_a_member_under_a_file_is_refused(tmp_path, second):
    """Found by the fuzzer: a file, then a member below it."""
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(UnsafePathError, match="the archive made it a file"):
        extract_tar(make_tar(("file", "a", "x"), ("file", second, "y")), staging, only=None,
                    archive="test part")
