"""Repository fixtures: one harness per backend so the contract suite runs against each.

The S3 harness talks to a real moto server over HTTP on 127.0.0.1 (a free port, one
server per test process, so it is safe under xdist), with a fresh bucket per test and
dummy credentials in the environment.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from providers.repositories.base import Repository
from providers.repositories.local import LocalRepository

REGION = "eu-west-1"


@dataclass
class RepoHarness:
    """A backend under test plus the hooks a test needs to damage it from outside."""

    make: Callable[[str], Repository]
    flip_byte: Callable[[Repository, str, str, str, int], None]
    remove_stored: Callable[[Repository, str, str, str], None]
    constructor_code: Callable[[str], str]
    write_stored: Callable[[Repository, str, str, str, bytes], None]
    """Overwrite a stored object as someone with write access to the repository can."""


def _local(tmp_path: Path) -> RepoHarness:
    def make(name: str) -> Repository:
        return LocalRepository(name, tmp_path / name)

    def stored(repo: Repository, series: str, snapshot_id: str, name: str) -> Path:
        assert isinstance(repo, LocalRepository)
        return repo.path / series / snapshot_id / name

    def flip_byte(repo: Repository, series: str, snapshot_id: str, name: str, at: int) -> None:
        path = stored(repo, series, snapshot_id, name)
        data = bytearray(path.read_bytes())
        data[at] ^= 0x01
        path.write_bytes(bytes(data))

    def remove_stored(repo: Repository, series: str, snapshot_id: str, name: str) -> None:
        stored(repo, series, snapshot_id, name).unlink()

    def write_stored(repo: Repository, series: str, snapshot_id: str, name: str,
                     data: bytes) -> None:
        stored(repo, series, snapshot_id, name).write_bytes(data)

    def constructor_code(name: str) -> str:
        return (
            "from pathlib import Path\n"
            "from providers.repositories.local import LocalRepository\n"
            f"repo = LocalRepository({name!r}, Path({str(tmp_path / name)!r}))\n"
        )

    return RepoHarness(make, flip_byte, remove_stored, constructor_code, write_stored)


@pytest.fixture
def s3_client(moto_endpoint: str, aws_env: None) -> Any:
    """A boto3 S3 client of the moto server, for arranging and inspecting from outside."""
    import boto3

    return boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A fresh, uniquely named bucket on the moto server."""
    name = f"drydock-repo-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name,
                            CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def _s3(bucket: str, endpoint: str, client: Any) -> RepoHarness:
    from providers.repositories.s3 import S3Repository

    def make(name: str) -> Repository:
        return S3Repository(name, bucket, f"vaults/{name}", REGION, endpoint_url=endpoint)

    def key(repo: Repository, series: str, snapshot_id: str, name: str) -> str:
        assert isinstance(repo, S3Repository)
        return repo.object_key(series, snapshot_id, name)

    def flip_byte(repo: Repository, series: str, snapshot_id: str, name: str, at: int) -> None:
        where = key(repo, series, snapshot_id, name)
        data = bytearray(client.get_object(Bucket=bucket, Key=where)["Body"].read())
        data[at] ^= 0x01
        client.put_object(Bucket=bucket, Key=where, Body=bytes(data))

    def remove_stored(repo: Repository, series: str, snapshot_id: str, name: str) -> None:
        client.delete_object(Bucket=bucket, Key=key(repo, series, snapshot_id, name))

    def constructor_code(name: str) -> str:
        return (
            "from providers.repositories.s3 import S3Repository\n"
            f"repo = S3Repository({name!r}, {bucket!r}, {f'vaults/{name}'!r}, {REGION!r},"
            f" endpoint_url={endpoint!r})\n"
        )

    def write_stored(repo: Repository, series: str, snapshot_id: str, name: str,
                     data: bytes) -> None:
        client.put_object(Bucket=bucket, Key=key(repo, series, snapshot_id, name), Body=data)

    return RepoHarness(make, flip_byte, remove_stored, constructor_code, write_stored)


@pytest.fixture(params=["local", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> RepoHarness:
    """Every repository backend: a local directory and an S3 bucket (moto over HTTP)."""
    if request.param == "local":
        return _local(tmp_path)
    return _s3(request.getfixturevalue("bucket"), request.getfixturevalue("moto_endpoint"),
               request.getfixturevalue("s3_client"))
