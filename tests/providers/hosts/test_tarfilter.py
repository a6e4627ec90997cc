"""The controller-side tar check: what passes is a fresh, plain tar; what is hostile stops."""

from __future__ import annotations

import io
import tarfile

import pytest

from providers.hosts.tarfilter import copy_checked_tar
from safefs.pathsafety import UnsafePathError


def _tar(*members: tuple[str, bytes, str]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = data
            info.mode = 0o4755
            info.uid, info.uname = 1234, "someone"
            payload = data.encode() if kind == tarfile.REGTYPE else b""
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload else None)
    buf.seek(0)
    return buf


def test_safe_members_pass_without_set_id_bits_or_owners() -> None:
    out = io.BytesIO()
    names = copy_checked_tar(_tar(("./bin", tarfile.DIRTYPE, ""), ("bin/x", tarfile.REGTYPE, "x"),
                                  ("cur", tarfile.SYMTYPE, "bin"),
                                  ("up/l", tarfile.SYMTYPE, "../bin/x")), out, label="t")
    assert [n.as_posix() for n in names] == ["bin", "bin/x", "cur", "up/l"]
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["bin", "bin/x", "cur", "up/l"]
        assert all(m.mode == 0o755 and m.uid == 0 and m.uname == "" for m in members)
        assert tar.extractfile("bin/x").read() == b"x"


@pytest.mark.parametrize("members", [
    [("d", tarfile.SYMTYPE, "."), ("e", tarfile.SYMTYPE, "d/..")],     # climbs through a link
    [("l", tarfile.SYMTYPE, "sub"), ("l/x", tarfile.REGTYPE, "x")],    # writes through a link
    [("a", tarfile.DIRTYPE, ""), ("a", tarfile.REGTYPE, "x")],         # replaces a folder
])
def test_tricks_with_links_and_duplicates_are_refused(members: list) -> None:
    out = io.BytesIO()
    with pytest.raises(UnsafePathError):
        copy_checked_tar(_tar(*members), out, label="t")
    # Only the header of the first (data-less) member went out; the refused one did not.
    assert len(out.getvalue()) == tarfile.BLOCKSIZE
