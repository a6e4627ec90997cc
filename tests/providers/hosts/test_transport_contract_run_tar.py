"""The transport contract, part 2: commands and tar streams, against every transport."""

from __future__ import annotations

import io
import os
import secrets
import stat as stat_mod
import tarfile
from pathlib import Path

import pytest

from providers.hosts.base import HostError
from tests.providers.hosts.conftest import HostArea


# -- run ----------------------------------------------------------------------------------
def test_argv_reaches_the_program_unchanged(host: HostArea) -> None:
    args = ["a b", "it's", 'say "hi"', "$HOME", "`id`", "; rm -rf /", "*", "", "new\nline"]
    result = host.transport.run(["printf", "[%s]", *args])
    assert result.ok and result.stdout == "".join(f"[{a}]" for a in args)


def test_stdin_env_and_cwd_reach_the_command(host: HostArea) -> None:
    (host.backing / "work").mkdir()
    result = host.transport.run(
        ["sh", "-c", 'pwd; printf "%s|" "$TOKEN" "$OTHER"; cat'], cwd=host.root / "work",
        env={"TOKEN": "s3 cr'et\nline", "OTHER": ""}, stdin=b"from stdin\x00\xff")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(host.root / "work")
    assert "s3 cr'et\nline||from stdin\x00" in result.stdout


def test_secrets_in_env_never_appear_on_a_command_line(host: HostArea) -> None:
    secret = "drydock-secret-" + secrets.token_hex(8)
    listing = ('for p in /proc/[0-9]*; do tr "\\000" " " < "$p/cmdline" 2>/dev/null; '
               'echo; done')
    result = host.transport.run(["sh", "-c", listing + '; [ "$SECRET" = "$WANT" ] && echo same'],
                                env={"SECRET": secret, "WANT": secret})
    assert result.ok and result.stdout.rstrip().endswith("same")
    assert secret not in result.stdout


def test_exit_codes_missing_programs_and_timeouts(host: HostArea) -> None:
    failed = host.transport.run(["sh", "-c", "echo oops >&2; exit 3"])
    assert (failed.returncode, failed.stderr.strip(), failed.ok) == (3, "oops", False)
    missing = host.transport.run(["no-such-program-anywhere", "x"])
    assert missing.returncode == 127
    slow = host.transport.run(["sleep", "30"], timeout=1)
    assert slow.returncode == 124
    no_folder = host.transport.run(["pwd"], cwd=host.root / "absent")
    assert no_folder.returncode == 127


def test_large_output_and_input_pass_whole(host: HostArea) -> None:
    data = os.urandom(1 << 20)
    result = host.transport.run(["sha256sum"], stdin=data)
    import hashlib

    assert result.stdout.split()[0] == hashlib.sha256(data).hexdigest()
    lines = host.transport.run(["seq", "1", "200000"])
    assert lines.stdout.splitlines()[-1] == "200000"


# -- tar streams --------------------------------------------------------------------------
def _home(backing: Path) -> None:
    (backing / "home" / "bin").mkdir(parents=True)
    (backing / "home" / "bin" / "start.sh").write_text("#!/bin/sh\necho up\n")
    (backing / "home" / "bin" / "start.sh").chmod(0o750)
    (backing / "home" / "conf").mkdir()
    (backing / "home" / "conf" / "deployment.toml").write_text("[server]\noffset = 0\n")
    (backing / "home" / "conf" / "odd name\nhere").write_text("odd")
    (backing / "home" / "big.jar").write_bytes(os.urandom(3 << 20))
    (backing / "home" / "current").symlink_to("bin")


def _tree(root: Path) -> dict[str, tuple[str, int, bytes]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = os.lstat(path)
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        body = (os.readlink(path).encode() if kind == "link"
                else path.read_bytes() if kind == "file" else b"")
        mode = stat_mod.S_IMODE(st.st_mode) if kind == "file" else 0
        out[path.relative_to(root).as_posix()] = (kind, mode, body)
    return out


def test_tar_round_trip_keeps_content_modes_and_links(host: HostArea) -> None:
    _home(host.backing)
    with host.transport.tar_out(host.root / "home") as stream:
        host.transport.tar_in(host.root / "copy", stream)
    assert _tree(host.backing / "copy") == _tree(host.backing / "home")


def test_tar_out_of_members_skips_absent_ones(host: HostArea) -> None:
    _home(host.backing)
    with host.transport.tar_out(host.root / "home", ["conf", "absent", "bin/start.sh"]) as s:
        names = tarfile.open(fileobj=io.BytesIO(s.read())).getnames()
    assert sorted(names) == ["bin/start.sh", "conf", "conf/deployment.toml", "conf/odd name\nhere"]
    with host.transport.tar_out(host.root / "absent-root") as s:
        assert tarfile.open(fileobj=io.BytesIO(s.read())).getnames() == []


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    buf.seek(0)
    return buf


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


HOSTILE = {
    "absolute name": _info("/tmp/drydock-escape"),
    "dot-dot": _info("../escape"),
    "dot-dot inside": _info("ok/../../escape"),
    "absolute link": _info("link", tarfile.SYMTYPE, "/etc"),
    "escaping link": _info("link", tarfile.SYMTYPE, "../../.."),
    "hard link": _info("hard", tarfile.LNKTYPE, "first"),
    "device": _info("dev", tarfile.CHRTYPE),
    "fifo": _info("fifo", tarfile.FIFOTYPE),
    "duplicate": _info("first"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_tar_is_refused_before_its_member_is_written(
        host: HostArea, case: str) -> None:
    stream = _tar((_info("first"), b"benign"), (HOSTILE[case], b"evil"))
    with pytest.raises(HostError) as info:
        host.transport.tar_in(host.root / "into", stream)
    message = str(info.value)
    assert message.startswith(f"{host.transport.host}: ") and "\n" not in message
    into = host.backing / "into"
    written = {p.relative_to(into).as_posix() for p in into.rglob("*")} if into.exists() else set()
    assert written <= {"first"}
    assert not (host.backing.parent / "escape").exists()
    assert not Path("/tmp/drydock-escape").exists()
    if into.exists() and (into / "first").exists():
        assert (into / "first").read_bytes() == b"benign"


def test_a_malformed_tar_is_refused(host: HostArea) -> None:
    with pytest.raises(HostError):
        host.transport.tar_in(host.root / "into", io.BytesIO(b"this is not a tar" * 100))
