"""Authenticated manifests: with a key, a snapshot nobody with the key wrote is refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from providers.repositories.errors import IntegrityError
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import MANIFEST_NAME
from tests.providers.repositories.test_repository_contract import SMALL, put, read_all

KEY = b"k" * 32


def keyed(harness, name: str = "vault"):
    repo = harness.make(name)
    repo.mac_key = lambda: KEY
    return repo


def stored_manifest(repo, sid: str) -> dict:
    return json.loads(repo._load_manifest("apim-db", sid))


def test_a_keyed_repository_signs_and_reads_back_its_own_snapshots(harness):
    repo = keyed(harness)
    sid = put(repo, data={"p": SMALL})
    assert stored_manifest(repo, sid)["mac"].startswith("hmac-sha256:")
    assert read_all(repo, "apim-db", sid, "p") == SMALL
    assert repo.verify("apim-db", sid).ok


def test_a_part_replaced_with_its_sha256_recomputed_is_refused(harness):
    repo = keyed(harness)
    sid = put(repo, data={"p": SMALL})
    import zstandard

    evil = zstandard.ZstdCompressor().compress(b"DROP TABLE am_api;\n")
    harness.write_stored(repo, "apim-db", sid, "p.zst", evil)
    manifest = stored_manifest(repo, sid)
    manifest["parts"][0].update(sha256=hashlib.sha256(evil).hexdigest(), size=len(evil))
    harness.write_stored(repo, "apim-db", sid, MANIFEST_NAME, json.dumps(manifest).encode())
    for call in (lambda: read_all(repo, "apim-db", sid, "p"),
                 lambda: repo.ensure_intact("apim-db", sid, "p"),
                 lambda: repo.verify("apim-db", sid)):
        with pytest.raises(IntegrityError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"repository vault: snapshot apim-db/{sid}: manifest has a "
                                  "MAC that does not verify")
        assert "\n" not in message


def test_a_manifest_without_a_mac_is_refused_by_a_keyed_repository(harness):
    plain = harness.make("vault")
    sid = put(plain, data={"p": SMALL})  # written without the key (or by someone else)
    repo = keyed(harness)
    with pytest.raises(IntegrityError, match=f"snapshot apim-db/{sid}: manifest has no MAC"):
        read_all(repo, "apim-db", sid, "p")
    assert [m.id for m in repo.list()] == [sid]  # listed (and prunable), never restored


def test_a_keyed_copy_is_signed_by_its_destination_and_a_forged_source_is_not_copied(tmp_path):
    source = LocalRepository("primary", tmp_path / "primary")
    source.mac_key = lambda: KEY
    dest = LocalRepository("dr", tmp_path / "dr")
    dest.mac_key = lambda: b"d" * 32
    sid = put(source, data={"p": SMALL})
    dest.copy_from(source, "apim-db", sid)
    assert read_all(dest, "apim-db", sid, "p") == SMALL
    forged = put(LocalRepository("primary", tmp_path / "primary"), data={"p": SMALL})
    with pytest.raises(IntegrityError, match="manifest has no MAC"):
        dest.copy_from(source, "apim-db", forged)
    assert [m.id for m in dest.list()] == [sid]
