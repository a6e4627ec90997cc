"""Plan `backups forget SERIES`: retention on demand, as `backup.prune` actions (pure).

The same retention the planned prune runs (restic's rules, pins, min_verified, the
never-empty guard, the policy's timezone), per repository of the series, turned into the
same `backup.prune` actions. Two guarantees are checked before anything is planned, and
a forget that would break one is refused as a whole:
- copy: a snapshot retention keeps must reach every copy target before it may leave the
  policy's repository (the planned prune keeps it for the same reason);
- drill: every drill of the series must still find a snapshot to restore in its
  repository (within its `window` when it picks at random).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.contracts.catalog import CatalogEntry, SeriesCatalog
from engine.contracts.models import Action
from engine.retention import RetentionResult, RetentionSnapshot, apply_policy
from engine.spec.keep import KeepPolicy
from engine.spec.loader import LoadedSpec


class ForgetRefused(ValueError):
    """A forget would break a copy or drill guarantee; the message names which."""


class RepositoryForget(BaseModel):
    """What retention decided for the series in one repository."""

    model_config = ConfigDict(frozen=True)

    repository: str
    result: RetentionResult


class ForgetPlan(BaseModel):
    """Per repository the retention result, and the prune actions that carry it out."""

    model_config = ConfigDict(frozen=True)

    series: str
    repositories: tuple[RepositoryForget, ...]
    actions: tuple[Action, ...]


def retention_input(entries: Sequence[CatalogEntry], data: Mapping[str, Any],
                    pinned: Sequence[str]) -> list[RetentionSnapshot]:
    """The catalog entries as retention sees them: verified and pinned from the series'
    recorded data (`verified`, `pins`) and the policy's `pinned` list; one per id."""
    verified = set(data.get("verified", {}))
    pins = set(data.get("pins", [])) | set(pinned)
    unique = {e.id: e for e in entries}
    return [RetentionSnapshot(id=e.id, time=e.created, tags=e.tags, verified=e.id in verified,
                              pinned=e.id in pins) for e in unique.values()]


def plan_forget(spec: LoadedSpec, series: str, catalog: SeriesCatalog, data: Mapping[str, Any],
                *, keep: KeepPolicy | None, tz: tzinfo, now: datetime,
                repositories: Sequence[str] = ()) -> ForgetPlan:
    """Retention of `series` in each of `repositories` (default: the policy's and its
    copies), with `keep` (None: the policy's own rules), and its prune actions.

    Raises ForgetRefused naming the snapshot and the guarantee it would break, and
    ValueError for a repository that does not hold the series.
    """
    policy = spec.env.backups[series]
    rules = keep if keep is not None else policy.keep
    if keep is not None and policy.keep.min_verified and not keep.min_verified:
        rules = keep.model_copy(update={"min_verified": policy.keep.min_verified})
    names = list(repositories) or [policy.repository, *policy.copies]
    for name in names:
        if name not in (policy.repository, *policy.copies):
            raise ValueError(f"--repository {name}: series {series} lives in "
                             f"{', '.join([policy.repository, *policy.copies])}")
    decided: list[RepositoryForget] = []
    for name in names:
        snaps = retention_input(catalog.repos.get(name, ()), data, policy.pinned)
        if snaps:
            result = apply_policy(snaps, rules, now=now, tz=tz)
            decided.append(RepositoryForget(repository=name, result=result))
    _check_copies(spec, series, catalog, data, decided, now)
    _check_drills(spec, series, catalog, decided, now)
    actions = tuple(_prune_action(series, d) for d in decided if d.result.remove)
    return ForgetPlan(series=series, repositories=tuple(decided), actions=actions)


def _prune_action(series: str, decided: RepositoryForget) -> Action:
    """The `backup.prune` the planned prune would make for these deletions."""
    deletes = [{"id": r.id, "created": r.time.isoformat(), "reason": r.reason}
               for r in decided.result.remove]
    repo = decided.repository
    return Action(
        id=f"backup.{series}/prune-{repo}", address=f"backup.{series}", type="backup.prune",
        summary=f"delete {len(deletes)} snapshot(s) of {series} from {repo} that retention "
                "no longer keeps",
        params={"series": series, "repository": repo, "deletes": deletes,
                "kept": len(decided.result.keep)}, risky=True)


def _check_copies(spec: LoadedSpec, series: str, catalog: SeriesCatalog,
                  data: Mapping[str, Any], decided: Sequence[RepositoryForget],
                  now: datetime) -> None:
    """Refuse deleting from the policy's repository what the policy still has to copy."""
    policy = spec.env.backups[series]
    gone = {r.id for d in decided if d.repository == policy.repository for r in d.result.remove}
    if not gone:
        return
    from zoneinfo import ZoneInfo

    primary = list(catalog.repos.get(policy.repository, ()))
    for target in policy.copies:
        have = catalog.ids(target)
        snaps = retention_input([*catalog.repos.get(target, ()), *primary], data, policy.pinned)
        wanted = apply_policy(snaps, policy.keep, now=now, tz=ZoneInfo(policy.timezone))
        for sid in wanted.kept_ids:
            if sid in gone and sid not in have:
                raise ForgetRefused(
                    f"refusing to forget: snapshot {sid} of {series} is not yet copied to "
                    f"{target} (copy guarantee); run 'drydock apply' to copy it first, or "
                    "keep it")


def _check_drills(spec: LoadedSpec, series: str, catalog: SeriesCatalog,
                  decided: Sequence[RepositoryForget], now: datetime) -> None:
    """Refuse leaving a drill of the series with nothing to restore in its repository."""
    removed = {d.repository: set(d.result.removed_ids) for d in decided}
    for name, drill in sorted(spec.env.drills.items()):
        if drill.backup != series:
            continue
        repo = drill.from_ or spec.env.backups[series].repository
        if not removed.get(repo):
            continue
        left = [e for e in catalog.repos.get(repo, ()) if e.id not in removed[repo]]
        if drill.pick == "random" and drill.window is not None:
            left = [e for e in left if now - e.created <= drill.window]
        if not left:
            within = " within its window" if drill.pick == "random" and drill.window else ""
            raise ForgetRefused(
                f"refusing to forget: drill.{name} restores {series} from {repo} and would "
                f"have no snapshot there{within} (drill guarantee); keep more snapshots")
