"""Locks: the Locker contract on every backend, and the local lock against real processes."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from state.errors import StateLockedError, StateUnlockError
from state.local import LocalBlobStore
from state.lock import LocalLock, Locker, LockInfo
from state.objectlock import ObjectLock
from state.s3 import S3BlobStore, S3Lock
from tests.state._children import hold_local_lock
from tests.state.conftest import REGION
from tests.state.processes import child, kill, receive

FIXED = datetime(2026, 5, 4, 10, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))


@pytest.fixture(params=["local", "s3", "object-on-directory"])
def lockers(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Locker]:
    """A factory of lockers for one state; each call acts as a separate run."""
    if request.param == "local":
        return lambda: LocalLock(tmp_path / "state" / "demo.json")
    if request.param == "s3":
        store = S3BlobStore(
            request.getfixturevalue("bucket"),
            "states",
            REGION,
            endpoint_url=request.getfixturevalue("moto_endpoint"),
        )
        return lambda: S3Lock(store, "demo.json")
    directory = LocalBlobStore(tmp_path / "objects")
    return lambda: ObjectLock(directory, "demo.json.lock", state_label="demo.json")


@pytest.fixture
def object_lockers(request: pytest.FixtureRequest) -> Callable[[], Locker]:
    """Lockers of one state on S3 (a conditional-write lock object)."""
    store = S3BlobStore(
        request.getfixturevalue("bucket"),
        "",
        REGION,
        endpoint_url=request.getfixturevalue("moto_endpoint"),
    )
    return lambda: S3Lock(store, "demo.json")


def test_acquire_records_who_holds_the_lock(lockers: Callable[[], Locker]) -> None:
    locker = lockers()
    info = locker.acquire("apply")
    assert (info.pid, info.host, info.operation) == (os.getpid(), socket.gethostname(), "apply")
    assert info.created.utcoffset() is not None
    assert locker.holder() == info
    assert lockers().holder() == info
    locker.release(info)


def test_second_run_is_refused_naming_the_holder(lockers: Callable[[], Locker]) -> None:
    first = lockers()
    info = first.acquire("apply")
    with pytest.raises(StateLockedError) as caught:
        lockers().acquire("plan")
    message = str(caught.value)
    assert f"is locked by apply (pid {os.getpid()} on host {socket.gethostname()}" in message
    assert f"lock id {info.id}" in message
    assert "\n" not in message
    assert caught.value.holder == info
    first.release(info)


def test_release_frees_the_lock_for_the_next_run(lockers: Callable[[], Locker]) -> None:
    first = lockers()
    first.release(first.acquire("apply"))
    assert lockers().holder() is None
    second = lockers()
    info = second.acquire("apply")
    assert second.holder() == info
    second.release(info)


def test_releasing_a_lock_not_held_is_refused(lockers: Callable[[], Locker]) -> None:
    first = lockers()
    info = first.acquire("apply")
    with pytest.raises(StateUnlockError, match="not held by this process"):
        lockers().release(info)
    assert first.holder() == info
    first.release(info)


def test_force_unlock_with_a_wrong_id_changes_nothing(lockers: Callable[[], Locker]) -> None:
    with pytest.raises(StateUnlockError, match="not locked"):
        lockers().force_unlock("no-such-id")


def test_object_lock_force_unlock_removes_only_a_matching_lock(
    object_lockers: Callable[[], Locker],
) -> None:
    crashed = object_lockers()
    info = crashed.acquire("apply")  # its run then dies: nothing releases the object
    with pytest.raises(StateLockedError, match=f"run 'drydock state unlock {info.id}'"):
        object_lockers().acquire("apply")
    with pytest.raises(StateUnlockError, match=f"locked by lock {info.id}, not other-id"):
        object_lockers().force_unlock("other-id")
    assert object_lockers().holder() == info

    object_lockers().force_unlock(info.id)

    assert object_lockers().holder() is None
    successor = object_lockers()
    taken = successor.acquire("apply")
    with pytest.raises(StateUnlockError, match="removed by someone else"):
        crashed.release(info)
    assert successor.holder() == taken
    successor.release(taken)


def test_lock_records_use_the_clock_given(tmp_path: Path) -> None:
    locker = LocalLock(tmp_path / "demo.json", clock=lambda: FIXED)
    info = locker.acquire("apply")
    assert info.created == FIXED
    assert LockInfo.model_validate_json((tmp_path / "demo.json.lock").read_bytes()) == info
    locker.release(info)
    assert (tmp_path / "demo.json.lock").read_bytes() == b""


def test_lock_held_by_another_process_names_it_until_it_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "state" / "demo.json"
    locker = LocalLock(state)
    with child(hold_local_lock, str(state)) as (process, conn):
        held = LockInfo.model_validate_json(str(receive(conn)))
        assert held.pid == process.pid
        with pytest.raises(StateLockedError) as caught:
            locker.acquire("apply")
        message = str(caught.value)
        assert f"pid {process.pid} on host {socket.gethostname()}" in message
        assert f"lock id {held.id}" in message
        assert locker.holder() == held
        with pytest.raises(StateLockedError, match="stop that process instead of unlocking"):
            locker.force_unlock(held.id)
        assert locker.holder() == held

        kill(process)

        assert locker.holder() is None
        info = locker.acquire("apply")
        assert info.pid == os.getpid()
        locker.release(info)


def test_stale_record_of_a_killed_holder_can_be_cleared(tmp_path: Path) -> None:
    state = tmp_path / "demo.json"
    locker = LocalLock(state)
    with child(hold_local_lock, str(state)) as (process, conn):
        held = LockInfo.model_validate_json(str(receive(conn)))
        kill(process)
    assert (tmp_path / "demo.json.lock").read_bytes() != b""
    expected = f"no lock wrong-id \\(the recorded lock is {held.id}"
    with pytest.raises(StateUnlockError, match=expected):
        locker.force_unlock("wrong-id")
    locker.force_unlock(held.id)
    assert (tmp_path / "demo.json.lock").read_bytes() == b""
    with pytest.raises(StateUnlockError, match="not locked"):
        locker.force_unlock(held.id)
