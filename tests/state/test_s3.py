"""S3 backend specifics: wiring, failures mapped to one-line errors, lazy boto3."""

from __future__ import annotations

import socket

import pytest

from state.errors import StateBackendError
from state.s3 import S3BlobStore, open_s3_state
from tests.state._children import report_heavy_imports
from tests.state.conftest import REGION
from tests.state.processes import child, receive


def test_open_s3_state_keeps_history_and_lock_beside_the_key(
    bucket: str, moto_endpoint: str
) -> None:
    manager = open_s3_state(
        bucket, "envs/demo.json", REGION, environment="demo", endpoint_url=moto_endpoint
    )
    assert manager.location == f"s3://{bucket}/envs/demo.json"
    with manager.lock("apply") as info:
        store = S3BlobStore(bucket, "", REGION, endpoint_url=moto_endpoint)
        assert store.list("envs/") == ["envs/demo.json.lock"]
        doc = manager.read()
        manager.write(doc, expect=doc)
    assert info.path == manager.location
    assert store.list("envs/") == ["envs/demo.json", "envs/demo.json.history/1.json"]


def test_missing_bucket_is_a_one_line_backend_error(moto_endpoint: str, aws_env: None) -> None:
    store = S3BlobStore("drydock-no-such-bucket", "p", REGION, endpoint_url=moto_endpoint)
    with pytest.raises(StateBackendError) as caught:
        store.put("demo.json", b"x", expect_version=None)
    message = str(caught.value)
    assert "s3://drydock-no-such-bucket/p/demo.json" in message
    assert "NoSuchBucket" in message
    assert "\n" not in message


def test_unreachable_endpoint_is_a_backend_error(aws_env: None) -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never accepting
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        store = S3BlobStore("bucket-x", "", REGION, endpoint_url=f"http://127.0.0.1:{port}")
        with pytest.raises(StateBackendError, match="cannot reach S3 for get"):
            store.get("demo.json")


def test_importing_the_state_layer_does_not_load_boto3() -> None:
    with child(report_heavy_imports) as (_, conn):
        assert receive(conn) == []
