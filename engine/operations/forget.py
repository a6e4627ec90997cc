"""`backups forget SERIES` as a plan: retention read fresh from the repositories, the
guarantees checked, `backup.prune` actions applied like any other plan's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from engine.contracts.models import Plan
from engine.gitinfo import git_info
from engine.operations.catalog import CatalogError
from engine.operations.plan_apply import new_id
from engine.planners.assemble import assemble_plan
from engine.planners.forget import ForgetPlan, ForgetRefused, plan_forget
from engine.spec.data import BackupPolicy
from engine.spec.keep import KeepPolicy
from engine.workspace import Workspace
from state.document import StateDocument


def forget_zone(ws: Workspace, series: str, zone: tzinfo | None) -> tzinfo:
    """The zone retention buckets in: the one asked for, else the policy's."""
    return zone if zone is not None else ZoneInfo(policy_of(ws, series).timezone)


def policy_of(ws: Workspace, series: str) -> BackupPolicy:
    """The backup policy `series`; raises CatalogError naming the spec folder."""
    policy = ws.spec.env.backups.get(series)
    if policy is None:
        known = ", ".join(sorted(ws.spec.env.backups)) or "none"
        raise CatalogError(f"no backup policy {series!r} in {ws.spec.directory} (policies: "
                           f"{known})")
    return policy


def plan_forget_run(ws: Workspace, doc: StateDocument, series: str, *,
                    keep: KeepPolicy | None, zone: tzinfo | None, now: datetime,
                    repositories: Sequence[str] = ()) -> tuple[ForgetPlan, Plan]:
    """The retention decision and its plan, from the repositories' own catalog (not the
    state's cache: a forget deletes, so it looks at what is really there).

    Raises CatalogError (unknown series or repository), ForgetRefused (a guarantee would
    break), QueryFailed (a repository cannot be read).
    """
    policy_of(ws, series)
    catalog = ws.registry.read_catalog(ws.spec, series)
    record = doc.resources.get(f"backup.{series}")
    try:
        decided = plan_forget(ws.spec, series, catalog, dict(record.data) if record else {},
                              keep=keep, tz=forget_zone(ws, series, zone), now=now,
                              repositories=repositories)
    except ForgetRefused:
        raise
    except ValueError as exc:
        raise CatalogError(str(exc)) from None
    made = assemble_plan(ws.spec, doc, decided.actions, plan_id=new_id(now), now=now,
                         git=git_info(ws.spec.directory))
    return decided, made
