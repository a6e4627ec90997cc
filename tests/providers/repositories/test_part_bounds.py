"""Decompression bounds: a real zstd bomb stops at the manifest's raw_size, the global
cap, or the free space of the target, before the disk fills or the target changes."""

from __future__ import annotations

import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pytest

from providers.backup_sources import PathsError, restore_paths
from providers.hosts.local import LocalTransport
from providers.repositories.errors import IntegrityError
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import (
    MANIFEST_NAME,
    SnapshotFields,
    SnapshotSource,
    new_snapshot_id,
)
from providers.repositories.models import PartSource
from tests.helpers.faults import small_disk

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
BOMB = 256 << 20  # 256 MiB of zeros: about 8 KiB stored


def write_bomb(sink: BinaryIO) -> None:
    info = tarfile.TarInfo("repository/conf/zeros.bin")
    info.size = BOMB
    info.mode = 0o644
    sink.write(info.tobuf(tarfile.PAX_FORMAT))
    block = bytes(1 << 20)
    for _ in range(BOMB >> 20):
        sink.write(block)
    sink.write(bytes(2 * tarfile.BLOCKSIZE + (-(BOMB + 1024) % tarfile.RECORDSIZE)))


@pytest.fixture(scope="module")
def bomb_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalRepository, str]:
    repo = LocalRepository("vault", tmp_path_factory.mktemp("bomb") / "vault")
    sid = new_snapshot_id(NOW)
    repo.put("gw-1-runtime", sid, [PartSource(name="tree.tar", kind="tar", write=write_bomb)],
             SnapshotFields(source=SnapshotSource(kind="server", address="server.gw-1"),
                            created=NOW))
    return repo, sid


def forge_raw_size(repo: LocalRepository, sid: str, raw_size: int) -> LocalRepository:
    """A copy of the repository whose manifest lies about raw_size (sha256 untouched)."""
    path = repo.path / "gw-1-runtime" / sid / MANIFEST_NAME
    data = json.loads(path.read_bytes())
    data["parts"][0]["raw_size"] = raw_size
    path.write_text(json.dumps(data))
    return LocalRepository("vault", repo.path)


def test_a_bomb_stops_at_its_manifests_raw_size(bomb_repo, tmp_path):
    repo, sid = bomb_repo
    stored = repo.get_manifest("gw-1-runtime", sid).parts[0]
    assert stored.size < 64 << 10 and stored.raw_size > BOMB
    lying = forge_raw_size(repo, sid, 1 << 20)
    home = tmp_path / "home"
    (home / "repository" / "conf").mkdir(parents=True)
    (home / "repository" / "conf" / "deployment.toml").write_text("kept")
    with pytest.raises(IntegrityError) as caught:
        restore_paths(lying, "gw-1-runtime", sid, "tree.tar", T, PurePosixPath(home))
    message = str(caught.value)
    assert "decompresses to more than 1048576 bytes" in message and "\n" not in message
    assert sorted(p.name for p in home.iterdir()) == ["repository"]  # no staging left
    assert (home / "repository" / "conf" / "deployment.toml").read_text() == "kept"
    forge_raw_size(repo, sid, stored.raw_size)


def test_the_global_cap_holds_whatever_the_manifest_says(bomb_repo, tmp_path, monkeypatch):
    repo, sid = bomb_repo
    monkeypatch.setenv("DRYDOCK_MAX_PART_BYTES", str(4 << 20))
    with pytest.raises(IntegrityError, match="decompresses to more than 4194304 bytes"):
        restore_paths(repo, "gw-1-runtime", sid, "tree.tar", T, PurePosixPath(tmp_path / "home"))


T = LocalTransport()


def test_an_honest_part_larger_than_the_free_space_is_refused_before_writing(bomb_repo,
                                                                           tmp_path: Path):
    repo, sid = bomb_repo
    with small_disk(tmp_path / "disk", "16m") as disk:
        with pytest.raises(PathsError) as caught:
            restore_paths(repo, "gw-1-runtime", sid, "tree.tar", T, PurePosixPath(disk / "home"))
        assert "free; nothing was written" in str(caught.value)
        assert list((disk / "home").iterdir()) == []


def test_a_lying_bomb_on_a_small_disk_stops_before_the_disk_fills(bomb_repo, tmp_path):
    repo, sid = bomb_repo
    stored = repo.get_manifest("gw-1-runtime", sid).parts[0]
    lying = forge_raw_size(repo, sid, 4 << 20)
    try:
        with small_disk(tmp_path / "disk", "16m") as disk:
            with pytest.raises(IntegrityError, match="decompresses to more than"):
                restore_paths(lying, "gw-1-runtime", sid, "tree.tar", T,
                              PurePosixPath(disk / "home"))
            assert list((disk / "home").iterdir()) == []
    finally:
        forge_raw_size(repo, sid, stored.raw_size)
