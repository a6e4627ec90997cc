"""What only the S3 repository does: multipart streaming, S3 errors, uploads left behind,
copies to and from local repositories, and opening it from a spec (moto over HTTP)."""

from __future__ import annotations

import hashlib
import math
import os
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import pytest

from engine.spec.loader import load_spec
from providers.databases.base import DatabaseTarget
from providers.databases.sqlite import SqliteEngine
from providers.repositories.base import IntegrityError, PartSource, RepositoryError
from providers.repositories.factory import open_repository
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id
from providers.repositories.s3 import S3Repository
from providers.repositories.s3_transfer import MIB, part_size_for
from tests.providers.repositories.conftest import REGION

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def fields(kind: str = "paths") -> SnapshotFields:
    return SnapshotFields(source=SnapshotSource(kind=kind, address="backup.x"), created=NOW)  # type: ignore[arg-type]


def part(name: str, data: bytes) -> PartSource:
    return PartSource(name=name, kind="dump", write=lambda sink: sink.write(data))


def s3repo(bucket: str, endpoint: str, prefix: str = "vault", **options: Any) -> S3Repository:
    return S3Repository("vault", bucket, prefix, REGION, endpoint_url=endpoint, **options)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 that is bound but not listening: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_large_part_streams_up_in_multipart_parts_and_back(bucket, moto_endpoint, s3_client):
    repo = s3repo(bucket, moto_endpoint, part_size=5 * MIB, upload_threads=2)
    snapshot_id = new_snapshot_id(NOW)
    produced = hashlib.sha256()
    seen_midway: list[int] = []

    def write(sink: BinaryIO) -> None:
        for index in range(24):
            chunk = os.urandom(MIB)  # incompressible: about 24 MiB are stored
            produced.update(chunk)
            sink.write(chunk)
            if index == 15:
                uploads = s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
                assert len(uploads) == 1
                listed = s3_client.list_parts(Bucket=bucket, Key=uploads[0]["Key"],
                                              UploadId=uploads[0]["UploadId"])
                seen_midway.append(len(listed.get("Parts", [])))

    manifest = repo.put("big", snapshot_id, [PartSource(name="data", kind="dump", write=write)],
                        fields())
    # parts were already stored while the producer was still writing: streamed, not buffered
    assert seen_midway and seen_midway[0] >= 1
    stored = manifest.part("data").size
    head = s3_client.head_object(Bucket=bucket, Key=repo.object_key("big", snapshot_id,
                                                                    "data.zst"))
    assert head["ContentLength"] == stored
    assert head["ETag"].strip('"').endswith(f"-{math.ceil(stored / (5 * MIB))}")
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    read_back = hashlib.sha256()
    with repo.open_part("big", snapshot_id, "data") as stream:
        while chunk := stream.read(MIB):
            read_back.update(chunk)
    assert read_back.hexdigest() == produced.hexdigest()
    assert repo.verify("big", snapshot_id).ok


def test_a_small_part_is_one_plain_put(bucket, moto_endpoint, s3_client):
    repo = s3repo(bucket, moto_endpoint)
    snapshot_id = new_snapshot_id(NOW)
    repo.put("small", snapshot_id, [part("p", b"tiny")], fields())
    head = s3_client.head_object(Bucket=bucket, Key=f"vault/small/{snapshot_id}/p.zst")
    assert "-" not in head["ETag"]
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["vault/.drydock-repository", f"vault/small/{snapshot_id}/manifest.json",
                    f"vault/small/{snapshot_id}/p.zst"]


def test_a_failing_producer_aborts_its_multipart_upload(bucket, moto_endpoint, s3_client):
    repo = s3repo(bucket, moto_endpoint, part_size=5 * MIB, upload_threads=2)

    def write(sink: BinaryIO) -> None:
        for _ in range(12):
            sink.write(os.urandom(MIB))
        raise RuntimeError("dumper died")

    with pytest.raises(RuntimeError, match="dumper died"):
        repo.put("big", new_snapshot_id(NOW), [PartSource(name="d", kind="dump", write=write)],
                 fields())
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["vault/.drydock-repository"]


def test_a_corrupted_object_is_caught_by_verify_and_by_restore_before_writing(
    bucket, moto_endpoint, s3_client, tmp_path
):
    source = tmp_path / "apim.db"
    with sqlite3.connect(source) as con:
        con.executescript("CREATE TABLE am_api (id INTEGER PRIMARY KEY, name TEXT);"
                          "INSERT INTO am_api (name) VALUES ('a'), ('b');")
    con.close()
    engine = SqliteEngine()
    repo = s3repo(bucket, moto_endpoint)
    snapshot_id = new_snapshot_id(NOW)
    repo.put("apim-db", snapshot_id, [engine.dump_part(DatabaseTarget(engine="sqlite",
                                                                       path=source))],
             fields("database"))
    key = repo.object_key("apim-db", snapshot_id, "database.sqlite.zst")
    data = bytearray(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0x40
    s3_client.put_object(Bucket=bucket, Key=key, Body=bytes(data))

    result = repo.verify("apim-db", snapshot_id)
    assert not result.ok and result.parts[0].problem == "sha256 or size differs from the manifest"
    scratch = tmp_path / "scratch"
    with pytest.raises(IntegrityError, match=f"snapshot apim-db/{snapshot_id}: part database"):
        engine.restore_from(repo, "apim-db", snapshot_id, "database.sqlite",
                            DatabaseTarget(engine="sqlite", path=scratch / "restored.db"))
    assert not scratch.exists()  # refused before a byte (or a directory) was written


def test_an_unreachable_endpoint_is_one_line_naming_it(bucket, closed_port):
    endpoint = f"http://127.0.0.1:{closed_port}"
    repo = S3Repository("dr-vault", bucket, "p", REGION, endpoint_url=endpoint)
    with pytest.raises(RepositoryError) as caught:
        repo.list()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"repository dr-vault: s3://{bucket}/p/.drydock-repository: "
                              f"cannot reach S3 endpoint {endpoint} for read")
    assert "check endpoint_url" in message
    with pytest.raises(RepositoryError, match=f"cannot reach S3 endpoint {endpoint}"):
        repo.put("s", new_snapshot_id(NOW), [part("p", b"x")], fields())


def test_a_missing_bucket_names_the_bucket_and_what_to_check(moto_endpoint, aws_env):
    repo = S3Repository("vault", "no-such-bucket-here", "", REGION, endpoint_url=moto_endpoint)
    with pytest.raises(RepositoryError) as caught:
        repo.put("s", new_snapshot_id(NOW), [part("p", b"x")], fields())
    message = str(caught.value)
    assert "\n" not in message
    assert "s3://no-such-bucket-here/" in message and "NoSuchBucket" in message
    assert f"check the bucket exists in region {REGION}" in message


def test_copies_between_local_and_s3_both_ways_verify_at_the_destination(
    bucket, moto_endpoint, tmp_path
):
    data = os.urandom(3 * MIB) + b"tail" * 1000
    local = LocalRepository("primary", tmp_path / "primary")
    remote = s3repo(bucket, moto_endpoint)
    back = LocalRepository("restored", tmp_path / "restored")
    snapshot_id = new_snapshot_id(NOW)
    original = local.put("apim-db", snapshot_id, [part("d", data), part("e", b"")], fields())

    assert remote.copy_from(local, "apim-db", snapshot_id) == original
    assert remote.verify("apim-db", snapshot_id).ok
    assert back.copy_from(remote, "apim-db", snapshot_id) == original
    assert back.verify("apim-db", snapshot_id).ok
    with back.open_part("apim-db", snapshot_id, "d") as stream:
        assert stream.read() == data
    with remote.open_part("apim-db", snapshot_id, "e") as stream:
        assert stream.read() == b""


def test_an_unmarked_prefix_holding_other_objects_is_refused(bucket, moto_endpoint, s3_client):
    repo = s3repo(bucket, moto_endpoint, prefix="")
    s3_client.put_object(Bucket=bucket, Key="README.txt", Body=b"not ours")
    with pytest.raises(RepositoryError, match="already holds 'README.txt' and is not a drydock "
                       "repository"):
        repo.put("apim-db", new_snapshot_id(NOW), [part("p", b"x")], fields())
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["README.txt"]


def test_layout_without_prefix_and_foreign_objects_are_ignored(bucket, moto_endpoint, s3_client):
    repo = s3repo(bucket, moto_endpoint, prefix="")
    snapshot_id = new_snapshot_id(NOW)
    repo.put("apim-db", new_snapshot_id(NOW), [part("p", b"first")], fields())
    for key in ("README.txt", "a/b/c/d", "apim-db/.hidden/manifest.json", "x/y",
                "apim-db/20261125T170000Z-other1/notes.txt"):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"not ours")
    repo = s3repo(bucket, moto_endpoint, prefix="")
    repo.put("apim-db", snapshot_id, [part("p", b"x")], fields())
    assert s3_client.head_object(Bucket=bucket, Key=f"apim-db/{snapshot_id}/manifest.json")
    assert ("apim-db", snapshot_id) in [(m.series, m.id) for m in repo.list()]
    assert len(repo.list()) == 2
    far = datetime.now(UTC) + timedelta(days=1)
    assert repo.cleanup_incomplete(now=far, grace=timedelta(hours=1)) == []
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"README.txt", "a/b/c/d", "apim-db/.hidden/manifest.json", "x/y",
            "apim-db/20261125T170000Z-other1/notes.txt"} <= keys


def test_cleanup_finds_upload_only_leftovers_and_aborts_stale_uploads(
    bucket, moto_endpoint, s3_client
):
    repo = s3repo(bucket, moto_endpoint)
    done = new_snapshot_id(NOW)
    repo.put("apim-db", done, [part("p", b"x")], fields())
    # a killed run leaves multipart uploads behind: one in a snapshot that was never
    # finished, one from a killed copy of a snapshot that a later run completed
    dead = "20261125T170000Z-dead02"
    s3_client.put_object(Bucket=bucket, Key=repo.object_key("apim-db", dead, ".drydock-writing"),
                         Body=b"{}")  # what put writes before the first part
    for key in (repo.object_key("apim-db", dead, "p.zst"),
                repo.object_key("apim-db", done, "q.zst")):
        s3_client.create_multipart_upload(Bucket=bucket, Key=key)
    uploads = s3_client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert len(uploads) == 2
    # the clock is taken from what the server reports as initiation time (moto reports a
    # fixed one), so "fresh" and "stale" are relative to it
    now = max(u["Initiated"] for u in uploads) + timedelta(minutes=30)
    assert repo.cleanup_incomplete(now=now, grace=timedelta(hours=1)) == []
    assert len(s3_client.list_multipart_uploads(Bucket=bucket)["Uploads"]) == 2
    later = max(now, datetime.now(UTC)) + timedelta(hours=2)  # the marker has a real time
    assert repo.cleanup_incomplete(now=later, grace=timedelta(hours=1)) == [f"apim-db/{dead}"]
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert [m.id for m in repo.list()] == [done]


def test_the_factory_opens_an_s3_repository_from_the_spec(bucket, moto_endpoint, tmp_path):
    (tmp_path / "env.yaml").write_text(
        "environment: t\nsites: {dr: {}}\nrepositories:\n"
        f"  s3-vault: {{site: dr, type: s3, bucket: {bucket}, prefix: drydock/t,"
        f" region: {REGION}, endpoint_url: '{moto_endpoint}'}}\n")
    repo = open_repository(load_spec(tmp_path), "s3-vault")
    assert isinstance(repo, S3Repository)
    assert (repo.name, repo.bucket, repo.prefix, repo.region, repo.endpoint_url) == (
        "s3-vault", bucket, "drydock/t", REGION, moto_endpoint)
    snapshot_id = new_snapshot_id(NOW)
    repo.put("apim-db", snapshot_id, [part("p", b"x")], fields())
    assert [m.id for m in open_repository(load_spec(tmp_path), "s3-vault").list()] == [
        snapshot_id]


def test_part_sizes_grow_to_fit_large_objects_and_too_small_is_refused():
    assert part_size_for(1, 8 * MIB) == part_size_for(1000, 8 * MIB) == 8 * MIB
    assert part_size_for(1001, 8 * MIB) == 16 * MIB
    assert part_size_for(10_000, 8 * MIB) == 512 * MIB
    capacity = sum(part_size_for(n, 8 * MIB) for n in range(1, 10_001))
    assert capacity > 2 * (1 << 40)  # over 2 TiB in S3's 10,000 parts
    with pytest.raises(RepositoryError, match="below S3's minimum"):
        S3Repository("vault", "b", "", REGION, part_size=MIB)
