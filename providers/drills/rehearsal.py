"""Run one site drill: the site's recovery into scratch roots and databases, timed,
checked, and torn down in a `finally`.

The steps are the recovery's own actions planned against the drill's scratch view of the
spec (`engine.spec.scratch_view`); each runs through the provider that runs it in a real
recovery (`run_step`, the registry's), with that view as the spec, so a rehearsal fails
exactly where the recovery would — a replicated artifact or snapshot missing, a level
that does not apply, a server that does not come up. Databases are restored into their
scratch twins as a drill restores (refusing one that already holds objects), and the
drill's `sql` checks run on each. Before a server starts, its health URL must not
answer yet: otherwise the check would prove a server that is not the rehearsal's.
The RTO is the wall time from the first step to the last check; teardown (stop every
started server, drop every scratch database, remove every scratch root) always runs and
a rehearsal that left something behind fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from graphlib import TopologicalSorter
from pathlib import PurePosixPath
from typing import Any

from engine.contracts.drills import CheckResult, DrillRun
from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed, ActionOutcome
from engine.spec.data import DrillCheck
from engine.spec.scratch_view import scratch_view
from providers.databases.errors import DatabaseError
from providers.databases.targets import target_of
from providers.drills.checks import check_sql
from providers.drills.scratch import ScratchDatabase
from providers.hosts.base import HostError
from providers.hosts.paths import exists, is_empty_dir
from providers.hosts.pool import HostPool
from providers.product.service import host_http_status
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository
from providers.restore.actions import RestoreRefused

RunStep = Callable[[Action, ActionContext], ActionOutcome]
_FAILURES = (ActionFailed, RepositoryError, DatabaseError, RestoreRefused, HostError, OSError,
             ValueError, KeyError)


def _line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:400]


def ordered(steps: list[Action]) -> list[Action]:
    """The steps in an order that respects `depends_on` (plan order among equals)."""
    ids = {s.id for s in steps}
    sorter = TopologicalSorter({s.id: [d for d in s.depends_on if d in ids] for s in steps})
    rank = {s.id: i for i, s in enumerate(steps)}
    by_id = {s.id: s for s in steps}
    out: list[Action] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        out.extend(by_id[i] for i in ready)
        sorter.done(*ready)
    return out


@dataclass
class _Rehearsal:
    ctx: ActionContext
    params: dict[str, Any]
    hosts: HostPool
    run_step: RunStep
    view_ctx: ActionContext = field(init=False)
    started: list[Action] = field(default_factory=list)
    databases: list[tuple[str, ScratchDatabase]] = field(default_factory=list)
    made: list[tuple[str, PurePosixPath]] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.view_ctx = replace(self.ctx, spec=scratch_view(self.ctx.spec, self.params["drill"]))

    def claim_roots(self) -> None:
        """Every scratch root must be new; remember the folders the rehearsal creates."""
        for root in self.params.get("roots", []):
            t = self.hosts.get(self.view_ctx.spec, root["host"])
            path, parent = PurePosixPath(root["path"]), PurePosixPath(root["parent"])
            if exists(t, path) and not is_empty_dir(t, path):
                raise RestoreRefused(f"scratch root {path} on {root['host']} is not empty; a "
                                     "site drill builds into a fresh folder — remove it or "
                                     "choose another into.root")
            self.made.append((root["host"], parent if not exists(t, parent) else path))

    def step(self, action: Action) -> None:
        p = action.params
        if action.type == "restore.database":
            db = self.view_ctx.spec.env.databases[p["database"]]
            scratch = ScratchDatabase(target_of(self.view_ctx.spec, db, self.ctx.resolve_secret))
            self.databases.append((p["database"], scratch))
            scratch.restore(open_repository(self.view_ctx.spec, p["repository"]), p["series"],
                            p["snapshot_id"])
            return
        if action.type == "server.start":
            self._port_is_free(action)
            self.started.append(action)
        self.ctx.progress(f"drill {self.params['drill']}: {action.summary}")
        outcome = self.run_step(action, self.view_ctx)
        if action.type == "server.health":
            self.checks.append(CheckResult(check=f"{action.address} health check",
                                           passed=True, detail=outcome.message))

    def _port_is_free(self, action: Action) -> None:
        url = (action.params.get("health") or {}).get("http")
        if not url:
            return
        t = self.hosts.get(self.view_ctx.spec, action.params.get("host"))
        if host_http_status(t, url) is not None:
            raise ActionFailed(f"{action.address}: {url} already answers before the "
                               "rehearsal started its server, so its health check would "
                               "prove another server; free the port on "
                               f"{action.params.get('host')} (a live server sharing the host?)")

    def check_databases(self) -> None:
        wanted = [DrillCheck.model_validate(c) for c in self.params.get("checks", [])]
        for name, scratch in self.databases:
            for check in wanted:
                try:
                    found = check_sql(check, scratch)
                except (DatabaseError, ValueError) as exc:
                    found = CheckResult(check=check.describe(), passed=False, detail=_line(exc))
                self.checks.append(found.model_copy(update={
                    "check": f"database.{name}: {found.check}"}))

    def teardown(self) -> list[str]:
        """Stop, drop, remove; what could not be undone."""
        left: list[str] = []
        for start in reversed(self.started):
            stop = Action(id=start.id.replace("/start", "/stop"), address=start.address,
                          type="server.stop", summary=f"stop the rehearsal's {start.address}",
                          params=start.params)
            try:
                self.run_step(stop, self.view_ctx)
            except _FAILURES as exc:
                left.append(f"{start.address} did not stop ({_line(exc)})")
        for name, scratch in self.databases:
            try:
                scratch.teardown()
            except _FAILURES as exc:
                left.append(f"scratch database.{name} was not dropped ({_line(exc)})")
        for host, path in self.made:
            try:
                t = self.hosts.get(self.view_ctx.spec, host)
                t.remove_tree(path)
                if exists(t, path):
                    left.append(f"scratch root {path} on {host} is still there")
            except _FAILURES as exc:
                left.append(f"scratch root {path} on {host} was not removed ({_line(exc)})")
        return left


def run_rehearsal(ctx: ActionContext, params: dict[str, Any], hosts: HostPool,
                  run_step: RunStep) -> DrillRun:
    """Perform the site drill a `drill.site` action describes; the run to record.

    Never raises for a failing rehearsal: a problem found at plan time, a failing step,
    a failed check, a blown RTO or something left behind all make a failed DrillRun.
    """
    started = ctx.now
    begin = time.monotonic()
    rto = float(params["rto_seconds"])
    base = {"snapshot": ", ".join(params.get("snapshots", [])) or "none",
            "repository": ", ".join(params.get("repositories", [])) or "none",
            "started": started, "rto_seconds": rto}
    problems = list(params.get("problems") or [])
    if problems:
        return DrillRun(**base, finished=started, seconds=0.0, within_rto=False, passed=False,
                        error="; ".join(problems))
    error: str | None = None
    seconds = 0.0
    done = False
    r: _Rehearsal | None = None
    try:
        r = _Rehearsal(ctx, params, hosts, run_step)
        r.claim_roots()
        for action in ordered([Action.model_validate(s) for s in params.get("steps", [])]):
            try:
                r.step(action)
            except _FAILURES as exc:
                raise ActionFailed(f"{action.id}: {_line(exc)}") from exc
        r.check_databases()
        seconds = time.monotonic() - begin
        done = True
    except _FAILURES as exc:
        error = _line(exc)
        seconds = time.monotonic() - begin
    finally:
        left = r.teardown() if r is not None else []
    checks = tuple(r.checks) if r is not None else ()
    if left:
        error = "; ".join(filter(None, [error, "teardown left " + "; ".join(left)]))
    within = rto > 0 and seconds <= rto
    passed = done and error is None and within and all(c.passed for c in checks)
    return DrillRun(**base, finished=started + timedelta(seconds=time.monotonic() - begin),
                    seconds=round(seconds, 6), within_rto=within, passed=passed, checks=checks,
                    error=error, torn_down=not left)
