"""The apply walker: dependency order, bounded parallelism, skips and compensation.

The provider here is a real one written for the test: it appends to a file and fails on
request, so order and effects are observed, not assumed.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from engine.apply import execute
from engine.contracts.models import Action, Plan, StateRef, Step
from engine.contracts.provider import ActionContext, ActionFailed, ActionOutcome, Provider, Registry
from state.journal import Journal


class FileProvider(Provider):
    action_types: ClassVar[tuple[str, ...]] = ("t.write", "t.fail", "t.undo")

    def __init__(self, log: Path) -> None:
        self.log = log
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.gate = threading.Barrier(2, timeout=5)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            if action.params.get("meet"):
                self.gate.wait()
            with self.lock, self.log.open("a") as fh:
                fh.write(action.id + "\n")
            if action.type == "t.fail":
                raise ActionFailed(f"{action.id}: failed on purpose")
            return ActionOutcome(message="done")
        finally:
            with self.lock:
                self.running -= 1


def make_plan(actions: list[Action]) -> Plan:
    return Plan(id="p", environment="e", created_at=datetime.now(UTC), spec_digest="d",
                state=StateRef(lineage="l", serial=0), actions=tuple(actions))


def run(tmp_path: Path, actions: list[Action], parallelism: int = 4):
    provider = FileProvider(tmp_path / "log")
    ctx = ActionContext(spec=None, now=datetime.now(UTC), run_id="r",  # type: ignore[arg-type]
                        resolve_secret=lambda ref: "")
    with Journal.open(tmp_path / "journal") as journal:
        result = execute(make_plan(actions), Registry([provider]), ctx, journal,
                         parallelism=parallelism)
        unfinished = journal.unfinished()
    lines = (tmp_path / "log").read_text().split() if (tmp_path / "log").exists() else []
    return result, lines, provider, unfinished


def a(id_: str, type_: str = "t.write", deps: tuple[str, ...] = (), **kw) -> Action:
    return Action(id=id_, address=id_.split("/")[0], type=type_, summary=id_, depends_on=deps,
                  **kw)


def test_dependencies_run_first(tmp_path: Path) -> None:
    result, lines, _p, _u = run(tmp_path, [a("x/1"), a("x/2", deps=("x/1",)),
                                           a("x/3", deps=("x/2",))])
    assert result.ok and lines == ["x/1", "x/2", "x/3"]


def test_independent_actions_run_in_parallel(tmp_path: Path) -> None:
    result, _l, provider, _u = run(tmp_path, [a("x/1", params={"meet": True}),
                                              a("y/1", params={"meet": True})])
    assert result.ok and provider.peak == 2


def test_parallelism_one_serialises(tmp_path: Path) -> None:
    acts = [a(f"x{i}/1") for i in range(5)]
    result, lines, provider, _u = run(tmp_path, acts, parallelism=1)
    assert result.ok and provider.peak == 1 and len(lines) == 5


def test_failure_skips_dependents_and_independent_branch_goes_on(tmp_path: Path) -> None:
    result, lines, _p, unfinished = run(tmp_path, [
        a("x/1", "t.fail"), a("x/2", deps=("x/1",)), a("x/3", deps=("x/2",)), a("y/1")])
    status = {r.id: r.status for r in result.reports}
    assert status == {"x/1": "failed", "x/2": "skipped", "x/3": "skipped", "y/1": "ok"}
    assert "x/2" not in lines and "y/1" in lines
    assert not result.ok and unfinished == []
    skipped = next(r for r in result.reports if r.id == "x/3")
    assert skipped.message == "skipped: x/1 failed"


def test_compensation_of_completed_transaction_actions_runs(tmp_path: Path) -> None:
    undo = (Step(type="t.undo", summary="undo"),)
    result, lines, _p, _u = run(tmp_path, [
        a("s/backup", transaction="s", compensation=undo),
        a("s/change", "t.fail", deps=("s/backup",), transaction="s"),
        a("s/after", deps=("s/change",), transaction="s")])
    assert lines == ["s/backup", "s/change", "s/change#compensate-1"]
    comp = [r for r in result.reports if r.compensation_of]
    assert comp[0].compensation_of == "s/backup" and comp[0].status == "ok"
    assert result.count("skipped") == 1


def test_a_stop_asked_outside_the_wait_starts_nothing_new_and_loses_nothing(
        tmp_path: Path) -> None:
    # SIGTERM (a cancelled CI job) arrives while the walker starts the first action, not
    # while it waits: it is noted, the running action finishes and is recorded, nothing
    # else starts, and the process's own handlers are back afterwards.
    import os
    import signal

    from engine.apply import Callbacks

    before = signal.getsignal(signal.SIGTERM)
    provider = FileProvider(tmp_path / "log")
    ctx = ActionContext(spec=None, now=datetime.now(UTC), run_id="r",  # type: ignore[arg-type]
                        resolve_secret=lambda ref: "")
    started: list[str] = []

    def on_start(action: Action) -> None:
        started.append(action.id)
        if len(started) == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    with Journal.open(tmp_path / "journal") as journal:
        result = execute(make_plan([a("x/1"), a("y/1"), a("z/1")]), Registry([provider]),
                         ctx, journal, parallelism=1, callbacks=Callbacks(on_start=on_start))
        unfinished = journal.unfinished()
    assert result.interrupted and not result.ok
    assert started == ["x/1"]
    assert (tmp_path / "log").read_text().split() == ["x/1"]
    assert {r.id: r.status for r in result.reports} == {
        "x/1": "ok", "y/1": "skipped", "z/1": "skipped"}
    assert unfinished == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_the_process_ignores_stays_ignored(tmp_path: Path) -> None:
    import signal

    from engine.interrupts import StopRequests

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with StopRequests():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
