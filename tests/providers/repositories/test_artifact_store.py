"""The artifact store contract, against every backend (local directory, S3 on moto):
content-addressed, stored once, verified on write, copy and fetch, invisible to snapshot
listings, removed only by digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from providers.repositories.artifacts import (
    ARCHIVE,
    ARTIFACTS,
    ArtifactStore,
    file_digest,
    referenced,
)
from providers.repositories.errors import IntegrityError, RepositoryError
from tests.providers.repositories.conftest import RepoHarness
from tests.providers.repositories.test_repository_contract import put

PACK = b"PK\x03\x04 pack bytes " * 50_000


def archive(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "controller" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_an_archive_is_stored_once_under_its_digest_and_fetched_verified(
        harness: RepoHarness, tmp_path: Path) -> None:
    repo = harness.make("dr-vault")
    store = ArtifactStore(repo)
    source = archive(tmp_path, "wso2am-4.2.0.zip", PACK)
    info, stored = store.put_file(source, kind="pack")
    assert stored and info.sha256 == hashlib.sha256(PACK).hexdigest()
    assert (info.size, info.kind, info.name) == (len(PACK), "pack", "wso2am-4.2.0.zip")
    again, stored_again = store.put_file(source, kind="pack")
    assert again == info and not stored_again
    assert store.digests() == [info.sha256]
    assert store.check(info.sha256) is None
    fetched = store.fetch(info.sha256, tmp_path / "fetched")
    assert fetched.name == "wso2am-4.2.0.zip" and fetched.read_bytes() == PACK
    assert fetched.stat().st_mode & 0o777 == 0o600


def test_artifacts_are_not_snapshots(harness: RepoHarness, tmp_path: Path) -> None:
    repo = harness.make("dr-vault")
    sid = put(repo)
    ArtifactStore(repo).put_file(archive(tmp_path, "p.zip", b"patch"), kind="patch")
    assert [m.id for m in repo.list()] == [sid]
    assert repo.leftovers() == []


def test_a_damaged_artifact_is_named_and_never_handed_over(harness: RepoHarness,
                                                            tmp_path: Path) -> None:
    repo = harness.make("dr-vault")
    store = ArtifactStore(repo)
    info, _ = store.put_file(archive(tmp_path, "u.zip", PACK), kind="update")
    harness.flip_byte(repo, ARTIFACTS, info.sha256, ARCHIVE, 1000)
    assert "differ from its manifest" in (store.check(info.sha256) or "")
    with pytest.raises(IntegrityError, match="u.zip"):
        store.fetch(info.sha256, tmp_path / "out")
    assert not (tmp_path / "out" / "u.zip").exists()
    harness.remove_stored(repo, ARTIFACTS, info.sha256, ARCHIVE)
    assert "missing" in (store.check(info.sha256) or "")


def test_copy_between_repositories_verifies_and_is_idempotent(harness: RepoHarness,
                                                               tmp_path: Path) -> None:
    primary, dr = ArtifactStore(harness.make("primary")), ArtifactStore(harness.make("dr"))
    info, _ = primary.put_file(archive(tmp_path, "a.zip", PACK), kind="pack")
    copied, now = dr.copy_from(primary, info.sha256)
    assert now and copied == info and dr.check(info.sha256) is None
    assert dr.copy_from(primary, info.sha256) == (info, False)
    with pytest.raises(RepositoryError, match="not in the repository"):
        dr.copy_from(primary, "0" * 64)


def test_a_copy_of_damaged_bytes_never_becomes_visible(harness: RepoHarness,
                                                       tmp_path: Path) -> None:
    primary, dr = harness.make("primary"), harness.make("dr")
    info, _ = ArtifactStore(primary).put_file(archive(tmp_path, "a.zip", PACK), kind="pack")
    harness.flip_byte(primary, ARTIFACTS, info.sha256, ARCHIVE, 7)
    with pytest.raises(IntegrityError, match="changed while it was read"):
        ArtifactStore(dr).copy_from(ArtifactStore(primary), info.sha256)
    assert ArtifactStore(dr).get(info.sha256) is None


def test_delete_removes_one_artifact_and_a_bad_digest_is_refused(harness: RepoHarness,
                                                                 tmp_path: Path) -> None:
    store = ArtifactStore(harness.make("dr-vault"))
    keep, _ = store.put_file(archive(tmp_path, "k.zip", b"keep"), kind="patch")
    drop, _ = store.put_file(archive(tmp_path, "d.zip", b"drop"), kind="patch")
    assert store.delete(drop.sha256) and not store.delete(drop.sha256)
    assert store.digests() == [keep.sha256]
    with pytest.raises(RepositoryError, match="not a sha256"):
        store.get("../../etc")


def test_referenced_reads_the_digests_snapshot_facts_name() -> None:
    facts = [{"artifacts": [{"kind": "pack", "sha256": "a" * 64}]},
             {"artifacts": [{"sha256": "b" * 64}, "junk"]}, {"update_level": 3}]
    assert referenced(facts) == {"a" * 64, "b" * 64}


def test_a_digest_is_computed_once_per_unchanged_file(tmp_path: Path) -> None:
    path = archive(tmp_path, "pack.zip", b"one")
    cache: dict = {}
    first = file_digest(path, cache)
    assert first == (hashlib.sha256(b"one").hexdigest(), 3) and len(cache) == 1
    assert file_digest(path, cache) == first and len(cache) == 1
    path.write_bytes(b"other bytes")
    assert file_digest(path, cache) == (hashlib.sha256(b"other bytes").hexdigest(), 11)
