"""Waiting for the state lock (`--lock-timeout`): a real flock held by another open file
is retried until it is released, or refused after the deadline naming the holder."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.errors import StateLockedError
from state.lock import LocalLock
from state.lockwait import acquire_waiting


class FakeTime:
    """A clock that moves only when the waiter sleeps (no real waiting in the test)."""

    def __init__(self, on_sleep=lambda n: None) -> None:
        self.now, self.sleeps, self.on_sleep = 0.0, [], on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))


def test_a_lock_released_while_waiting_is_taken(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    holder = LocalLock(state)
    held = holder.acquire("apply")
    fake = FakeTime(lambda n: holder.release(held) if n == 3 else None)
    got = acquire_waiting(LocalLock(state), "state mv", 60, sleep=fake.sleep, clock=fake.clock)
    assert got.operation == "state mv"
    assert fake.sleeps == [0.1, 0.2, 0.4]  # backing off while it was held


def test_a_lock_still_held_at_the_deadline_is_refused_naming_the_holder(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    LocalLock(state).acquire("apply")
    fake = FakeTime()
    with pytest.raises(StateLockedError) as caught:
        acquire_waiting(LocalLock(state), "plan", 5, sleep=fake.sleep, clock=fake.clock)
    assert "locked by apply" in str(caught.value)
    assert "waiting 5s (--lock-timeout)" in str(caught.value)
    assert sum(fake.sleeps) == pytest.approx(5.0) and max(fake.sleeps) <= 2.0


def test_no_timeout_fails_at_once(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    LocalLock(state).acquire("apply")
    fake = FakeTime()
    with pytest.raises(StateLockedError, match="wait for it to finish"):
        acquire_waiting(LocalLock(state), "plan", 0, sleep=fake.sleep, clock=fake.clock)
    assert fake.sleeps == []


def test_the_waiter_is_told_once_with_the_holder_when_the_wait_begins(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    holder = LocalLock(state)
    held = holder.acquire("apply")
    told: list[str] = []
    fake = FakeTime(lambda n: holder.release(held) if n == 4 else None)
    acquire_waiting(LocalLock(state), "restore", 60, sleep=fake.sleep, clock=fake.clock,
                    on_wait=lambda exc: told.append(str(exc)))
    assert len(told) == 1 and "locked by apply" in told[0]
    free: list[str] = []
    acquire_waiting(LocalLock(tmp_path / "t.json"), "restore", 60, sleep=fake.sleep,
                    clock=fake.clock, on_wait=lambda exc: free.append(str(exc)))
    assert free == []  # a free lock is taken without a word
