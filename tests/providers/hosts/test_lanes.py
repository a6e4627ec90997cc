"""Local lanes: at most WIDTH blocks of local work at once, nested work free, remote free."""

from __future__ import annotations

import threading

import pytest

from providers.hosts import lanes
from providers.hosts.local import LocalTransport
from providers.hosts.pool import _Guarded


class _Remote:
    """Stands for a transport to another machine: lanes only ask whether it is local."""

    host = "elsewhere"


def test_local_work_waits_for_a_free_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    width = 2
    monkeypatch.setattr(lanes, "_LANES", threading.BoundedSemaphore(width))
    t = _Guarded(LocalTransport())
    inside, most, release = [0], [0], threading.Event()
    changed = threading.Condition()

    def work() -> None:
        with lanes.lane(t):
            with changed:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                changed.notify_all()
            release.wait(30)
            with changed:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(3 * width)]
    for th in threads:
        th.start()
    with changed:
        assert changed.wait_for(lambda: inside[0] == width, timeout=30)
    # Both lanes are taken and held: nobody else can get in until they are given back.
    assert not lanes._LANES.acquire(blocking=False)
    release.set()
    for th in threads:
        th.join(30)
    assert most[0] == width
    assert lanes._LANES.acquire(blocking=False)  # every lane came back


def test_nested_local_work_takes_no_second_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lanes, "_LANES", threading.BoundedSemaphore(1))
    t = LocalTransport()
    done = []
    with lanes.lane(t), lanes.lane(t):
        done.append(True)
    with lanes.lane(t):  # the lane was given back after the nested use
        done.append(True)
    assert done == [True, True]


def test_remote_work_holds_no_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lanes, "_LANES", threading.BoundedSemaphore(1))
    lanes._LANES.acquire()  # the only lane is busy
    try:
        assert not lanes.is_local(_Remote())  # type: ignore[arg-type]
        with lanes.lane(_Remote()):  # type: ignore[arg-type]
            ran = True
    finally:
        lanes._LANES.release()
    assert ran
    assert lanes.is_local(_Guarded(LocalTransport()))
