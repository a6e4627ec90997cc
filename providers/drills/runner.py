"""Run one drill: restore into the scratch target (timed), check, tear down, report.

The scratch target is torn down in a `finally`, whatever the checks said. The restore
time is measured around the restore alone and compared with the RTO; an RTO of 0s is
never met (every restore takes some time). The run's start is the apply's time (so
schedules follow `DRYDOCK_NOW`), its end that plus the measured duration. A drill into
an `engine: rds` database restores an RDS snapshot store's snapshot into a new scratch
instance (`providers.drills.rds_scratch`) and runs that scratch's own checks. A folder
target is on the host the drill names (through the run's host pool), else on the
controller.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from engine.contracts.drills import CheckResult, DrillRun
from engine.contracts.provider import ActionContext
from engine.killpoints import reached_inside
from engine.spec.data import DrillCheck, RdsDatabase
from providers.backup_sources import PathsError
from providers.databases.errors import DatabaseError
from providers.databases.targets import target_of
from providers.drills.checks import run_checks
from providers.drills.rds_scratch import ScratchRdsInstance
from providers.drills.scratch import Scratch, ScratchDatabase, ScratchDirectory
from providers.hosts.pool import HostPool
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository, open_store
from providers.restore.actions import RestoreRefused

_FAILURES = (RepositoryError, DatabaseError, PathsError, RestoreRefused, OSError, ValueError)


def scratch_for(ctx: ActionContext, params: dict[str, Any], hosts: HostPool) -> Scratch:
    """The drill's scratch target, its secrets resolved now (never from the plan)."""
    drill = ctx.spec.env.drills[params["drill"]]
    if isinstance(drill.into.database, RdsDatabase):
        return ScratchRdsInstance(drill.into.database.identifier, drill.into.database.region,
                                  ctx.progress)
    if drill.into.database is not None:
        return ScratchDatabase(target_of(ctx.spec, drill.into.database, ctx.resolve_secret))
    target = params["target"]
    return ScratchDirectory(hosts.get(ctx.spec, target.get("host")),
                            PurePosixPath(target["path"]))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:400]


def run_drill(ctx: ActionContext, params: dict[str, Any],
              hosts: HostPool | None = None) -> DrillRun:
    """Perform the drill a `drill.run` action describes; returns the run to record.

    Never raises for a failing drill: a refused, damaged or failing restore, failing
    checks, a blown RTO or a failed teardown all come back as a failed DrillRun.
    """
    started = ctx.now
    begin = time.monotonic()
    rto = float(params["rto_seconds"])
    base = {"snapshot": params["snapshot_id"], "repository": params["repository"],
            "started": started, "rto_seconds": rto}
    problems = list(params.get("problems") or [])
    if problems:
        return DrillRun(**base, finished=started, seconds=0.0, within_rto=False, passed=False,
                        error=problems[0])
    checks: list[CheckResult] = []
    error: str | None = None
    seconds = 0.0
    restored = False
    torn_down = True
    scratch: Scratch | None = None
    try:
        scratch = scratch_for(ctx, params, hosts or HostPool())
        rds = isinstance(scratch, ScratchRdsInstance)
        repo = (open_store if rds else open_repository)(ctx.spec, params["repository"])
        ctx.progress(f"drill {params['drill']}: restoring {params['snapshot_id']} into "
                     f"{scratch.label}")
        if params.get("clear_scratch"):
            ctx.progress(f"drill {params['drill']}: removing what an interrupted drill left "
                         f"in {scratch.label}")
            scratch.clear_leftover()
        mark = time.monotonic()
        try:
            scratch.restore(repo, params["series"], params["snapshot_id"])
        finally:
            seconds = time.monotonic() - mark
        restored = True
        reached_inside("restored")
        wanted = [DrillCheck.model_validate(c) for c in params.get("checks", [])]
        if isinstance(scratch, ScratchRdsInstance):
            checks = scratch.checks(wanted)
        else:
            checks = run_checks(wanted, scratch, repo, params["series"],  # type: ignore[arg-type]
                                params["snapshot_id"])
    except _FAILURES as exc:
        error = _first_line(exc)
    finally:
        if scratch is not None:
            reached_inside("checked")
            try:
                scratch.teardown()
            except _FAILURES as exc:
                torn_down = False
                error = "; ".join(filter(None, [error, f"teardown failed: {_first_line(exc)}"]))
    within = restored and rto > 0 and seconds <= rto
    passed = error is None and within and torn_down and all(c.passed for c in checks)
    return DrillRun(**base, finished=started + timedelta(seconds=time.monotonic() - begin),
                    seconds=round(seconds, 6), within_rto=within, passed=passed,
                    checks=tuple(checks), error=error, torn_down=torn_down)
