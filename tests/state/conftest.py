"""Fixtures for the state tests: a real moto S3 server over HTTP and per-test backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from state.blobstore import BlobStore
from state.local import LocalBlobStore, open_local_state
from state.lock import Locker
from state.manager import StateManager
from state.s3 import S3BlobStore, S3Lock

REGION = "eu-west-1"


@pytest.fixture
def bucket(moto_endpoint: str, aws_env: None) -> str:
    """A fresh, uniquely named bucket on the moto server."""
    import boto3

    name = f"drydock-test-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@dataclass
class Backend:
    """One state backend under test: its blob store and how to build managers and locks."""

    name: str
    store: BlobStore
    make_locker: Callable[[str], Locker]
    make_manager: Callable[[str, str, int], StateManager]

    def manager(
        self, key: str = "demo.json", environment: str = "demo", keep_versions: int = 20
    ) -> StateManager:
        """A manager of state `key` for `environment` on this backend."""
        return self.make_manager(key, environment, keep_versions)

    def locker(self, key: str = "demo.json") -> Locker:
        """A fresh lock object for state `key` (a second call acts as another run)."""
        return self.make_locker(key)


def _local_backend(root: Path) -> Backend:
    from state.lock import LocalLock

    return Backend(
        name="local",
        store=LocalBlobStore(root),
        make_locker=lambda key: LocalLock(root / key),
        make_manager=lambda key, env, keep: open_local_state(root / key, env, keep_versions=keep),
    )


def _s3_backend(bucket: str, endpoint: str) -> Backend:
    store = S3BlobStore(bucket, "states", REGION, endpoint_url=endpoint)

    def manager(key: str, env: str, keep: int) -> StateManager:
        return StateManager(store, S3Lock(store, key), key=key, environment=env, keep_versions=keep)

    return Backend(
        name="s3", store=store, make_locker=lambda key: S3Lock(store, key), make_manager=manager
    )


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every contract test runs once against the local directory and once against S3."""
    if request.param == "local":
        return _local_backend(tmp_path / "state")
    bucket_name = request.getfixturevalue("bucket")
    endpoint = request.getfixturevalue("moto_endpoint")
    return _s3_backend(bucket_name, endpoint)
