"""Walk a plan's action graph with bounded parallelism; compensate failed transactions.

A vertex runs once all its dependencies succeeded; a failed vertex skips every vertex
that depends on it (without repeating its error) while independent branches go on.
When an action of a transaction (one server's change) fails, the compensation steps of
the transaction's completed actions run, newest first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Literal, Protocol

from engine import killpoints
from engine.contracts.models import Action, Frozen, Plan, Step
from engine.contracts.provider import ActionContext, ActionFailed, ActionOutcome, Registry
from engine.interrupts import StopRequests

Status = Literal["ok", "failed", "skipped"]
STOP_POLL_SECONDS = 0.2
"""How soon the walker notices a stop asked for while actions run (see engine/interrupts)."""


class JournalLike(Protocol):
    """What the walker needs of the crash-safety journal."""

    def intent(self, run_id: str, action_id: str, address: str, type: str) -> None: ...

    def result(self, run_id: str, action_id: str, status: str, detail: str = "") -> None: ...


class ActionReport(Frozen):
    """How one action (or compensation step) went."""

    id: str
    address: str
    type: str
    status: Status
    message: str = ""
    seconds: float = 0.0
    compensation_of: str | None = None


class ApplyResult(Frozen):
    """The outcome of a whole apply."""

    run_id: str
    reports: tuple[ActionReport, ...]
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """True when no action failed and the run was not interrupted."""
        return not self.interrupted and all(r.status != "failed" for r in self.reports)

    def count(self, status: Status) -> int:
        """How many actions (not compensation steps) ended with `status`."""
        return sum(1 for r in self.reports if r.status == status and r.compensation_of is None)


@dataclass
class Callbacks:
    """Hooks for progress output and recording results as they happen."""

    on_start: Callable[[Action], None] = lambda _a: None
    on_report: Callable[[ActionReport], None] = lambda _r: None
    on_outcome: Callable[[Action, ActionOutcome], None] = lambda _a, _o: None


@dataclass
class _Walk:
    plan: Plan
    registry: Registry
    ctx: ActionContext
    journal: JournalLike
    callbacks: Callbacks
    actions: dict[str, Action] = field(default_factory=dict)
    successors: dict[str, list[str]] = field(default_factory=dict)
    status: dict[str, Status] = field(default_factory=dict)
    transactions: dict[str, list[Action]] = field(default_factory=dict)
    reports: list[ActionReport] = field(default_factory=list)


def _descendants(walk: _Walk, start: str) -> set[str]:
    """Every action that depends on `start`, directly or not."""
    seen: set[str] = set()
    todo = list(walk.successors.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(walk.successors.get(node, ()))
    return seen


def _run_one(walk: _Walk, action: Action) -> tuple[Status, str, ActionOutcome | None, float]:
    run_id = walk.ctx.run_id
    walk.journal.intent(run_id, action.id, action.address, action.type)
    killpoints.reached(f"{action.id}:start")
    start = time.monotonic()
    token = killpoints.running(action.id)
    try:
        outcome = walk.registry.run(action, walk.ctx)
    except ActionFailed as exc:
        walk.journal.result(run_id, action.id, "failed", str(exc))
        return "failed", str(exc), None, time.monotonic() - start
    except Exception as exc:  # a provider bug must not leave the journal open
        msg = f"{action.id}: unexpected {type(exc).__name__}: {exc}"
        walk.journal.result(run_id, action.id, "failed", msg)
        return "failed", msg, None, time.monotonic() - start
    finally:
        killpoints.done(token)
    killpoints.reached(f"{action.id}:end")
    walk.journal.result(run_id, action.id, "ok", outcome.message)
    return "ok", outcome.message, outcome, time.monotonic() - start


def _compensate(walk: _Walk, failed: Action, steps: list[tuple[str, Step]]) -> list[ActionReport]:
    out = []
    for i, (origin, step) in enumerate(steps):
        comp = Action(id=f"{failed.id}#compensate-{i + 1}", address=failed.address,
                      type=step.type, summary=step.summary, params=step.params)
        status, message, _outcome, secs = _run_one(walk, comp)
        out.append(ActionReport(id=comp.id, address=comp.address, type=comp.type,
                                status=status, message=message, seconds=secs,
                                compensation_of=origin))
        if status == "failed":
            break
    return out


def _compensation_steps(walk: _Walk, action: Action) -> list[tuple[str, Step]]:
    if action.transaction is None:
        return []
    done = [a for a in walk.transactions.get(action.transaction, ())
            if a.compensation and walk.status.get(a.id) == "ok"]
    steps: list[tuple[str, Step]] = []
    for origin in reversed(done):
        steps.extend((origin.id, s) for s in origin.compensation)
    return steps


_TaskResult = tuple[Action, Status, str, ActionOutcome | None, float, list[ActionReport]]


def _task(walk: _Walk, action: Action, comp: list[tuple[str, Step]]) -> _TaskResult:
    status, message, outcome, secs = _run_one(walk, action)
    extra = _compensate(walk, action, comp) if status == "failed" and comp else []
    return action, status, message, outcome, secs, extra


def execute(plan: Plan, registry: Registry, ctx: ActionContext, journal: JournalLike,
            *, parallelism: int = 10, callbacks: Callbacks | None = None) -> ApplyResult:
    """Run every action of `plan` in dependency order, at most `parallelism` at once."""
    walk = _Walk(plan, registry, ctx, journal, callbacks or Callbacks())
    for action in plan.actions:
        walk.actions[action.id] = action
        if action.transaction is not None:
            walk.transactions.setdefault(action.transaction, []).append(action)
        for dep in action.depends_on:
            walk.successors.setdefault(dep, []).append(action.id)
    waiting = {a.id: set(a.depends_on) for a in plan.actions}
    ready = deque(a.id for a in plan.actions if not waiting[a.id])
    running: dict[Future, str] = {}
    interrupted = False
    width = max(1, parallelism)
    with StopRequests() as stop, ThreadPoolExecutor(max_workers=width) as pool:
        while (ready and not interrupted) or running:
            # Submit no more than can run: `wait` costs O(futures given), so handing the
            # pool every ready action at once made a wide plan quadratic.
            while ready and not stop.pending and len(running) < width:
                node = ready.popleft()
                action = walk.actions[node]
                walk.callbacks.on_start(action)
                comp = _compensation_steps(walk, action)
                running[pool.submit(_task, walk, action, comp)] = node
            finished, _ = wait(running, timeout=STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
            if stop.pending and not interrupted:
                # Ctrl-C or SIGTERM: start nothing new (queued actions are withdrawn), let
                # the running ones finish, and record them.
                interrupted = True
                for future in [f for f in running if f.cancel()]:
                    running.pop(future)
            for future in finished:
                running.pop(future)
                action, status, message, outcome, secs, extra = future.result()
                _finish(walk, action, status, message, outcome, secs, extra, ready, waiting)
    if stop.pending and any(a.id not in walk.status for a in plan.actions):
        interrupted = True  # asked to stop after the last wait, with actions left
    if interrupted:
        _skip_unstarted(walk)
    order = {a.id: i for i, a in enumerate(plan.actions)}
    reports = sorted(walk.reports, key=lambda r: (order.get(r.id.split("#")[0], 0), r.id))
    return ApplyResult(run_id=ctx.run_id, reports=tuple(reports), interrupted=interrupted)


def _skip_unstarted(walk: _Walk) -> None:
    for action in walk.plan.actions:
        if action.id not in walk.status:
            walk.status[action.id] = "skipped"
            report = ActionReport(id=action.id, address=action.address, type=action.type,
                                  status="skipped", message="skipped: apply interrupted")
            walk.reports.append(report)
            walk.callbacks.on_report(report)


def _finish(walk: _Walk, action: Action, status: Status, message: str,
            outcome: ActionOutcome | None, secs: float, extra: list[ActionReport],
            ready: deque[str], waiting: dict[str, set[str]]) -> None:
    walk.status[action.id] = status
    report = ActionReport(id=action.id, address=action.address, type=action.type,
                          status=status, message=message, seconds=secs)
    walk.reports.append(report)
    if status == "ok" and outcome is not None:
        walk.callbacks.on_outcome(action, outcome)
    walk.callbacks.on_report(report)
    for comp in extra:
        walk.reports.append(comp)
        walk.callbacks.on_report(comp)
    if status == "ok":
        for succ in walk.successors.get(action.id, ()):
            waiting[succ].discard(action.id)
            if not waiting[succ] and succ not in walk.status:
                ready.append(succ)
        return
    for node in sorted(_descendants(walk, action.id)):
        if node in walk.status:
            continue
        walk.status[node] = "skipped"
        skipped = walk.actions[node]
        rep = ActionReport(id=node, address=skipped.address, type=skipped.type,
                           status="skipped", message=f"skipped: {action.id} failed")
        walk.reports.append(rep)
        walk.callbacks.on_report(rep)
