"""New homes from a pack, and archiving a removed server's home: verified, then removed."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest
import zstandard

from providers.hosts.local import LocalTransport
from providers.product.archive import ArchiveError
from providers.product.install import (
    InstallError,
    archive_home,
    install_pack,
    pack_facts,
    remove_home,
)
from testkit.builder import build_evil_zip, build_pack
from tests.helpers.servers import tree

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return build_pack(tmp_path / "packs")


def test_install_unpacks_the_pack_without_its_top_folder(pack, tmp_path):
    home = tmp_path / "opt" / "gw-1"
    message = install_pack(T, pack, home)
    assert "installed wso2am-4.2.0" in message
    assert (home / "updates" / "product.txt").read_text() == "wso2am-4.2.0"
    assert os.access(home / "bin" / "api-manager.sh", os.X_OK)
    assert pack_facts(pack) == ("wso2am-4.2.0", -1)


def test_install_again_leaves_the_home_alone(pack, tmp_path):
    home = tmp_path / "gw-1"
    install_pack(T, pack, home)
    (home / "repository" / "conf" / "deployment.toml").write_text("edited\n")
    before = tree(home)
    assert "already holds" in install_pack(T, pack, home)
    assert tree(home) == before


def test_install_refuses_a_home_holding_something_else(pack, tmp_path):
    home = tmp_path / "gw-1"
    home.mkdir()
    (home / "notes.txt").write_text("not a product\n")
    with pytest.raises(InstallError, match="exists and does not hold wso2am-4.2.0"):
        install_pack(T, pack, home)
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]


def test_an_unsafe_pack_writes_nothing(tmp_path):
    evil = build_evil_zip(tmp_path / "evil.zip", "dotdot")
    with pytest.raises(ArchiveError):
        install_pack(T, evil, tmp_path / "site" / "gw-1")
    assert not (tmp_path / "site").exists() or not any((tmp_path / "site").iterdir())
    assert not (tmp_path / "evil.txt").exists()


def _read_archive(archive: Path) -> dict[str, str]:
    out = {}
    with archive.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as zst, \
            tarfile.open(fileobj=zst, mode="r|") as tar:
        for member in tar:
            if member.isfile():
                out[member.name] = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
            elif member.issym():
                out[member.name] = "link:" + member.linkname
    return out


def test_archive_holds_every_file_byte_for_byte_then_the_home_is_removed(pack, tmp_path):
    home = tmp_path / "opt" / "gw-old"
    install_pack(T, pack, home)
    (home / "repository" / "logs").mkdir(exist_ok=True)
    (home / "repository" / "logs" / "wso2carbon.log").write_text("last words\n")
    (home / "bin" / "current").symlink_to("api-manager.sh")
    expected = {p.relative_to(home).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in home.rglob("*") if p.is_file() and not p.is_symlink()}
    archive = tmp_path / ".drydock" / "archived" / "gw-old-plan1.tar.zst"
    done = archive_home(T, home, archive)
    assert done.files == len(expected)  # regular files; the link is an entry of its own
    got = _read_archive(archive)
    assert {k: v for k, v in got.items() if not v.startswith("link:")} == expected
    assert got["bin/current"] == "link:api-manager.sh"
    remove_home(T, home, archive)
    assert not home.exists() and archive.is_file()
    assert not list(archive.parent.glob("*.tmp"))


def test_archive_refuses_a_home_with_a_fifo_and_keeps_everything(pack, tmp_path):
    home = tmp_path / "gw-old"
    install_pack(T, pack, home)
    os.mkfifo(home / "control.pipe")
    before = sorted(p.name for p in home.iterdir())
    archive = tmp_path / "archived" / "gw-old.tar.zst"
    with pytest.raises(InstallError, match="control.pipe is a socket, FIFO or device"):
        archive_home(T, home, archive)
    assert sorted(p.name for p in home.iterdir()) == before
    assert not archive.exists()


def test_remove_home_refuses_without_the_archive(pack, tmp_path):
    home = tmp_path / "gw-old"
    install_pack(T, pack, home)
    with pytest.raises(InstallError, match="its archive .* is missing"):
        remove_home(T, home, tmp_path / "nowhere.tar.zst")
    assert (home / "updates" / "product.txt").is_file()
