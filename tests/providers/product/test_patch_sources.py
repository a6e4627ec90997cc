"""One run installs a patch archive into many homes of a host: checked once, linked after."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from engine.contracts.provider import ActionFailed
from providers.hosts.local import LocalTransport
from providers.product.patch_sources import PatchSources
from providers.product.patches import install_patch
from testkit.builder import build_patch, patch_name

T = LocalTransport()
PID = patch_name("4.9.0", 5)


def _jars(home: Path) -> dict[str, os.stat_result]:
    folder = home / "repository/components/patches/patch0005"
    return {p.name: p.stat() for p in sorted(folder.iterdir())}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return build_patch(tmp_path / "patches", number=5, jars=3)


def test_the_second_home_links_the_first_homes_jars(tmp_path: Path, archive: Path) -> None:
    sources = PatchSources()
    homes = [tmp_path / f"home-{i}" for i in range(3)]
    for home in homes:
        install_patch(T, PurePosixPath(home), archive, PID, "patch0005", sources)
    first, *others = (_jars(h) for h in homes)
    assert len(first) == 3
    for jars in others:
        assert {n: s.st_ino for n, s in jars.items()} == {n: s.st_ino for n, s in first.items()}
    assert all(s.st_nlink == 3 for s in first.values())


def test_a_source_whose_files_changed_is_not_linked_from(tmp_path: Path, archive: Path) -> None:
    sources = PatchSources()
    a, b = tmp_path / "a", tmp_path / "b"
    install_patch(T, PurePosixPath(a), archive, PID, "patch0005", sources)
    victim = sorted((a / "repository/components/patches/patch0005").iterdir())[0]
    original = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(original + b"tampered")  # a new file, another size
    install_patch(T, PurePosixPath(b), archive, PID, "patch0005", sources)
    copied = b / "repository/components/patches/patch0005" / victim.name
    assert copied.read_bytes() == original  # from the archive again
    assert copied.stat().st_ino != victim.stat().st_ino


def test_a_run_checks_the_archive_once_and_a_new_run_checks_it_again(
        tmp_path: Path, archive: Path) -> None:
    sources = PatchSources()
    install_patch(T, PurePosixPath(tmp_path / "a"), archive, PID, "patch0005", sources)
    assert sources.verified(sources.digest(archive))
    sources.clear()
    data = bytearray(archive.read_bytes())
    at = data.find(b"patch0005/") + 40
    data[at] ^= 0xFF  # damage a member: a new file identity and digest
    archive.write_bytes(bytes(data))
    with pytest.raises(ActionFailed, match=PID):
        install_patch(T, PurePosixPath(tmp_path / "b"), archive, PID, "patch0005", sources)
    assert not (tmp_path / "b/repository/components/patches/patch0005").exists()
