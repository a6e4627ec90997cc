"""Contract suite every BlobStore (local directory, S3) must pass."""

from __future__ import annotations

import pytest

from state.errors import StateConflictError
from tests.state.conftest import Backend


def test_get_of_missing_key_is_none(backend: Backend) -> None:
    assert backend.store.get("nothing.json") is None


def test_create_then_get_returns_bytes_and_same_version(backend: Backend) -> None:
    version = backend.store.put("demo.json", b'{"a": 1}\n', expect_version=None)
    blob = backend.store.get("demo.json")
    assert blob is not None
    assert blob.data == b'{"a": 1}\n'
    assert blob.version == version


def test_create_refused_when_key_exists(backend: Backend) -> None:
    backend.store.put("demo.json", b"first", expect_version=None)
    with pytest.raises(StateConflictError, match="demo.json"):
        backend.store.put("demo.json", b"second", expect_version=None)
    blob = backend.store.get("demo.json")
    assert blob is not None and blob.data == b"first"


def test_update_with_current_version_replaces_and_changes_version(backend: Backend) -> None:
    v1 = backend.store.put("demo.json", b"one", expect_version=None)
    v2 = backend.store.put("demo.json", b"two", expect_version=v1)
    blob = backend.store.get("demo.json")
    assert blob is not None
    assert (blob.data, blob.version) == (b"two", v2)
    assert v2 != v1


def test_update_with_stale_version_is_refused_and_keeps_content(backend: Backend) -> None:
    v1 = backend.store.put("demo.json", b"one", expect_version=None)
    backend.store.put("demo.json", b"two", expect_version=v1)
    with pytest.raises(StateConflictError) as caught:
        backend.store.put("demo.json", b"three", expect_version=v1)
    assert "\n" not in str(caught.value)
    blob = backend.store.get("demo.json")
    assert blob is not None and blob.data == b"two"


def test_update_of_missing_key_is_refused(backend: Backend) -> None:
    v1 = backend.store.put("demo.json", b"one", expect_version=None)
    backend.store.delete("demo.json")
    with pytest.raises(StateConflictError):
        backend.store.put("demo.json", b"two", expect_version=v1)
    assert backend.store.get("demo.json") is None


def test_delete_removes_and_missing_delete_is_quiet(backend: Backend) -> None:
    backend.store.put("demo.json", b"one", expect_version=None)
    backend.store.delete("demo.json")
    assert backend.store.get("demo.json") is None
    backend.store.delete("demo.json")
    assert backend.store.get("demo.json") is None


def test_conditional_delete_only_removes_the_expected_version(backend: Backend) -> None:
    v1 = backend.store.put("demo.json", b"one", expect_version=None)
    v2 = backend.store.put("demo.json", b"two", expect_version=v1)
    with pytest.raises(StateConflictError):
        backend.store.delete("demo.json", expect_version=v1)
    assert backend.store.get("demo.json") is not None
    backend.store.delete("demo.json", expect_version=v2)
    assert backend.store.get("demo.json") is None
    with pytest.raises(StateConflictError):
        backend.store.delete("demo.json", expect_version=v2)


def test_list_returns_keys_with_prefix_sorted(backend: Backend) -> None:
    for key in [
        "demo.json",
        "demo.json.history/10.json",
        "demo.json.history/2.json",
        "other.json",
        "other.json.history/1.json",
    ]:
        backend.store.put(key, key.encode(), expect_version=None)
    assert backend.store.list("demo.json.history/") == [
        "demo.json.history/10.json",
        "demo.json.history/2.json",
    ]
    assert backend.store.list("demo") == [
        "demo.json",
        "demo.json.history/10.json",
        "demo.json.history/2.json",
    ]
    assert backend.store.list("missing/") == []


def test_binary_data_round_trips_exactly(backend: Backend) -> None:
    data = bytes(range(256)) * 64
    backend.store.put("blob.bin", data, expect_version=None)
    blob = backend.store.get("blob.bin")
    assert blob is not None and blob.data == data


def test_location_names_the_key(backend: Backend) -> None:
    location = backend.store.location("demo.json")
    assert location.endswith("demo.json")
    if backend.name == "s3":
        assert location.startswith("s3://")
