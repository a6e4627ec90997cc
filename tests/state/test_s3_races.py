"""Real races on the S3 state (moto over HTTP, two threads released together by a
barrier, each with its own client and connection): of two applies taking the lock at
once exactly one gets it and the other is refused naming it; of two writers that read the
same serial exactly one compare-and-swap wins and the stale one fails, changing nothing.

S3 decides a conditional write atomically, moto does not (it checks, then writes), so
the writes go through a proxy that hands moto one write at a time (see
tests.helpers.throttle); what races, and who loses, is real."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from state.document import AppliedInfo
from state.errors import StateConflictError, StateLockedError
from state.manager import StateManager
from state.s3 import open_s3_state
from tests.helpers.throttle import throttling_proxy

REGION = "eu-west-1"
ROUNDS = 5


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def endpoint(moto_endpoint: str) -> Iterator[str]:
    """moto behind a proxy that makes its conditional writes atomic, as S3's are."""
    with throttling_proxy(moto_endpoint, atomic_writes=True) as proxy:
        yield proxy.url


def manager(bucket: str, endpoint: str) -> StateManager:
    return open_s3_state(bucket, "race.json", REGION, environment="demo", endpoint_url=endpoint)


def applied(who: str) -> AppliedInfo:
    return AppliedInfo(who=who, when=datetime(2026, 1, 1, tzinfo=UTC), summary=who)


def test_of_two_concurrent_applies_exactly_one_gets_the_lock(
        bucket: str, endpoint: str) -> None:
    for _ in range(ROUNDS):
        runs = [manager(bucket, endpoint), manager(bucket, endpoint)]
        results = race(*(lambda m=m: m.locker.acquire("apply") for m in runs))
        won = [r for r in results if not isinstance(r, Exception)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], StateLockedError)
        assert lost[0].holder is not None and lost[0].holder.id == won[0].id
        assert f"lock id {won[0].id}" in str(lost[0])
        winner = runs[results.index(won[0])]
        winner.locker.release(won[0])
        assert winner.locker.holder() is None


def test_a_stale_writer_loses_the_compare_and_swap(bucket: str, endpoint: str) -> None:
    seed = manager(bucket, endpoint)
    empty = seed.read()
    current = seed.write(empty.model_copy(update={"applied": applied("seed")}), expect=empty)
    for _ in range(ROUNDS):
        writers = [manager(bucket, endpoint), manager(bucket, endpoint)]
        read = [w.read() for w in writers]
        assert {d.serial for d in read} == {current.serial}
        results = race(*(
            lambda w=w, d=d, n=n: w.write(d.model_copy(update={"applied": applied(n)}), expect=d)
            for w, d, n in zip(writers, read, ("first", "second"), strict=True)))
        stored = [r for r in results if not isinstance(r, Exception)]
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(stored) == 1 and len(failed) == 1, results
        assert isinstance(failed[0], StateConflictError)
        now = seed.read()
        assert now.serial == current.serial + 1
        assert now.applied is not None and now.applied.who == stored[0].applied.who
        current = now
