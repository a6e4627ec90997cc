"""Schedule backups (pure): create when due or before a server change, copy, prune.

A policy's series lives in its `repository` and must reach every repository in `copies`.
`backup.create` is planned when the newest snapshot there is older than `every`, or when
the policy's server is about to change; `backup.copy` for every snapshot missing at a
copy target; `backup.prune` per repository for what retention no longer keeps, never the
last snapshot of a series nor one not yet copied where it must be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePath
from zoneinfo import ZoneInfo

from engine.contracts.catalog import CatalogEntry, SeriesCatalog, catalog_from_data
from engine.contracts.models import Action, Freshness
from engine.contracts.names import patch_dir
from engine.desired.data import database_attributes
from engine.desired.servers import server_home
from engine.planners.base import PlanContext
from engine.retention import RetentionResult, RetentionSnapshot, apply_policy, protect
from engine.spec.models import BackupPolicy

SERVER_PATHS = ("repository/conf", "repository/components/patches",
                "repository/deployment/server", "repository/resources/security",
                "repository/tenants", "updates")
LEFTOVER_GRACE = timedelta(hours=6)
"""An unfinished snapshot folder untouched this long is an interrupted write, not a live one."""


def snapshot_id_for(now: datetime, plan_id: str, policy: str, *, post: bool = False) -> str:
    """A deterministic, sortable id for the snapshot a plan will create.

    A post-change snapshot's id is `<stamp>-post-<digest>`: it is taken in the same apply
    (at the same `now`) as the pre-change one, and sorts after it, so "newest" is the one
    that reflects what runs.
    """
    digest = hashlib.sha256(f"{plan_id}\0{policy}{chr(0) + 'post' if post else ''}"
                            .encode()).hexdigest()[:6]
    from datetime import UTC

    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-post-{digest}" if post else f"{stamp}-{digest}"


def series_catalog(ctx: PlanContext, name: str) -> SeriesCatalog:
    """The catalog from the refresh, or from the state when refresh was skipped."""
    observed = ctx.observed.get(f"backup.{name}")
    if observed is not None and "catalog" in observed.facts:
        return catalog_from_data(name, observed.facts)
    return catalog_from_data(name, ctx.recorded_data.get(f"backup.{name}"))


def source_params(ctx: PlanContext, policy: BackupPolicy) -> dict[str, object]:
    """What backup.create needs to read the source (never a secret's value)."""
    src = policy.source
    spec = ctx.spec
    if src.database is not None:
        db = spec.env.databases[src.database]
        return {"kind": "database", "database": src.database,
                "address": f"database.{src.database}", **database_attributes(spec, db)}
    if src.ec2_instance is not None:
        aws = spec.env.hosts[src.ec2_instance].aws
        return {"kind": "ec2_instance", "host": src.ec2_instance,
                "address": f"host.{src.ec2_instance}", "reboot": src.reboot,
                "region": aws.region if aws else None,
                "instance_id": aws.instance_id if aws else None}
    if src.server is not None:
        server = spec.env.servers[src.server]
        return {"kind": "server", "server": src.server, "address": f"server.{src.server}",
                "host": server.host, "root": str(server_home(spec, server)),
                "paths": list(src.paths or SERVER_PATHS),
                "artifacts": artifact_sources(ctx, src.server)}
    return {"kind": "paths", "address": f"paths:{src.root}",
            "root": str(PurePath(spec.path(src.root or "."))), "paths": list(src.paths or ["."])}


def artifact_sources(ctx: PlanContext, server: str) -> dict[str, object]:
    """Where the archives a server's home is built from live (controller paths), so its
    runtime backups can replicate them: pack, updates and patches folders, patch folder ->
    patch id (update packages are found in their folder by descriptor), and the server's
    strategy (`replace`: its home is the updated pack of its level)."""
    spec = ctx.spec
    declared = spec.env.servers[server]
    product = spec.env.products[declared.product]
    ids = {patch_dir(p): p for s in spec.env.servers.values() if s.product == declared.product
           for p in s.patches}
    return {"pack": str(spec.path(product.pack)),
            "updates": str(spec.path(product.updates or ".")),
            "patches": str(spec.path(product.patches or ".")),
            "patch_ids": dict(sorted(ids.items())), "strategy": declared.strategy}


def _retain(ctx: PlanContext, name: str, policy: BackupPolicy,
            entries: Sequence[CatalogEntry]) -> RetentionResult | None:
    data = ctx.recorded_data.get(f"backup.{name}", {})
    verified = set(data.get("verified", {}))
    pins = set(data.get("pins", [])) | set(policy.pinned)
    unique = {e.id: e for e in entries}
    # newest first, and of two taken at one instant (before and after a change) the later
    # id first: retention's stable sort then treats the post-change one as the newer
    ordered = sorted(unique.values(), key=lambda e: (e.created, e.id), reverse=True)
    snaps = [RetentionSnapshot(id=e.id, time=e.created, tags=e.tags, verified=e.id in verified,
                               pinned=e.id in pins) for e in ordered]
    if not snaps:
        return None
    return apply_policy(snaps, policy.keep, now=ctx.now, tz=ZoneInfo(policy.timezone))


def _prune(ctx: PlanContext, name: str, policy: BackupPolicy, repo: str,
           entries: Sequence[CatalogEntry], unsafe: dict[str, str],
           after: tuple[str, ...]) -> Action | None:
    result = _retain(ctx, name, policy, entries)
    if result is None:
        return None
    unsafe = {**ctx.held.get((name, repo), {}), **unsafe}
    if unsafe:
        result = protect(result, {i: r for i, r in unsafe.items()
                                  if i in set(result.removed_ids)})
    if not result.remove:
        return None
    deletes = [{"id": r.id, "created": r.time.isoformat(), "reason": r.reason}
               for r in result.remove]
    keeps = [{"id": k.id, "reasons": list(k.reasons)} for k in result.keep]
    return Action(
        id=f"backup.{name}/prune-{repo}", address=f"backup.{name}", type="backup.prune",
        summary=f"delete {len(deletes)} snapshot(s) of {name} from {repo} that retention "
                "no longer keeps",
        params={"series": name, "repository": repo, "deletes": deletes,
                "kept": len(result.keep), "keeps": keeps},
        depends_on=after, risky=True)


def _cleanups(ctx: PlanContext, name: str, policy: BackupPolicy) -> list[Action]:
    """One ``backup.cleanup`` per repository holding interrupted writes of this series
    (drydock's own in-progress folders without a manifest, older than the grace, or whose
    writer was a process of this machine that is gone: a killed apply's)."""
    observed = ctx.observed.get(f"backup.{name}")
    found = observed.facts.get("leftovers", {}) if observed is not None else {}
    actions = []
    for repo in [policy.repository, *policy.copies]:
        ids = [item["id"] for item in found.get(repo, []) if item.get("writer_gone")
               or ctx.now - datetime.fromisoformat(item["modified"]) >= LEFTOVER_GRACE]
        if not ids:
            continue
        actions.append(Action(
            id=f"backup.{name}/cleanup-{repo}", address=f"backup.{name}", type="backup.cleanup",
            summary=f"remove {len(ids)} unfinished snapshot folder(s) of {name} from {repo} "
                    f"left by interrupted writes: {', '.join(ids)}",
            params={"series": name, "repository": repo, "leftovers": ids}, risky=True))
    return actions


def plan_backups(ctx: PlanContext, server_actions: dict[str, list[Action]]) -> tuple[
        list[Action], list[tuple[str, str]]]:
    """Actions for every policy, and extra edges between resources.

    `server_actions` maps each changing address to its actions: a server change waits for
    its backup; a backup of a database being created waits for the creation.
    """
    actions: list[Action] = []
    edges: list[tuple[str, str]] = []
    for name, policy in ctx.spec.env.backups.items():
        address = f"backup.{name}"
        catalog = series_catalog(ctx, name)
        newest = catalog.newest(policy.repository)
        due = newest is None or ctx.now - newest.created >= policy.every
        server_plan = server_actions.get(f"server.{policy.source.server}", [])
        # a server that is being installed has nothing to back up yet
        changing = bool(server_plan) and server_plan[0].type != "server.install"
        installing = bool(server_plan) and not changing  # the post-change snapshot covers it
        created: CatalogEntry | None = None
        create_id = None
        if (due and not installing) or changing:
            sid = snapshot_id_for(ctx.now, ctx.plan_id, name)
            why = ("before the change of " + f"server.{policy.source.server}") if changing \
                and not due else ("no snapshot yet" if newest is None else
                                  f"newest is {_age(ctx.now, newest.created)} old, "
                                  f"every {_age_td(policy.every)}")
            create_id = f"{address}/create"
            actions.append(Action(
                id=create_id, address=address, type="backup.create",
                summary=f"take snapshot {sid} of {name} into {policy.repository} ({why})",
                params={"series": name, "snapshot_id": sid, "repository": policy.repository,
                        "tags": list(policy.tags), "source": source_params(ctx, policy)}))
            created = CatalogEntry(id=sid, series=name, repository=policy.repository,
                                   created=ctx.now, tags=tuple(policy.tags))
            if changing:
                first = server_actions[f"server.{policy.source.server}"][0]
                edges.append((create_id, first.id))
            db_actions = server_actions.get(f"database.{policy.source.database}", [])
            if policy.source.database is not None and db_actions:
                edges.append((db_actions[-1].id, create_id))  # back up what was created
        post = _post_change(ctx, name, policy, server_plan)
        if post is not None:
            actions.append(post[0])
            edges.append((server_plan[-1].id, post[0].id))
        actions.extend(_cleanups(ctx, name, policy))
        primary = list(catalog.repos.get(policy.repository, ()))
        made = {e.id: aid for e, aid in [(created, create_id), post[1:] if post else (None, None)]
                if e is not None and aid is not None}
        planned_primary = primary + [e for e in (created, post[1] if post else None) if e]
        copy_ids: dict[str, list[str]] = {}
        not_copied: dict[str, str] = {}
        incoming: dict[str, list[CatalogEntry]] = {}
        for target in policy.copies:
            have = catalog.ids(target)
            # A copy target must hold what retention keeps across everything that exists;
            # a snapshot retention drops anyway is not worth copying.
            wanted = _retain(ctx, name, policy,
                             [*catalog.repos.get(target, ()), *planned_primary])
            keep_ids = set(wanted.kept_ids) if wanted else set()
            for entry in planned_primary:
                if entry.id in have or entry.id not in keep_ids:
                    continue
                incoming.setdefault(target, []).append(entry)
                aid = f"{address}/copy-{entry.id}-to-{target}"
                copy_ids.setdefault(target, []).append(aid)
                if entry.id not in made:
                    not_copied.setdefault(entry.id, f"not yet copied to {target}")
                actions.append(Action(
                    id=aid, address=address, type="backup.copy",
                    summary=f"copy snapshot {entry.id} of {name} from {policy.repository} "
                            f"to {target} and verify it there",
                    params={"series": name, "snapshot_id": entry.id,
                            "from": policy.repository, "to": target},
                    depends_on=(made[entry.id],) if entry.id in made else ()))
        after_primary = tuple(made.values()) + tuple(
            a for ids in copy_ids.values() for a in ids)
        prune = _prune(ctx, name, policy, policy.repository, planned_primary, not_copied,
                       after_primary)
        if prune:
            actions.append(prune)
        for target in policy.copies:
            existing = list(catalog.repos.get(target, ()))
            prune = _prune(ctx, name, policy, target, existing + incoming.get(target, []), {},
                           tuple(copy_ids.get(target, [])))
            if prune:
                actions.append(prune)
        touched = {a.params.get(k) for a in actions if a.address == address and a.type in
                   ("backup.create", "backup.copy", "backup.prune") for k in ("repository", "to")}
        actions.extend(_stale_catalog(ctx, name, policy, touched))
    return actions, edges


def _catalog_ids(data: object, repos: Sequence[str]) -> dict[str, list[str]]:
    catalog = data.get("catalog") if isinstance(data, dict) else None
    catalog = catalog if isinstance(catalog, dict) else {}
    return {r: sorted(str(e.get("id")) for e in catalog.get(r) or [] if isinstance(e, dict))
            for r in repos}


def _stale_catalog(ctx: PlanContext, name: str, policy: BackupPolicy,
                   touched: set[object]) -> list[Action]:
    """A ``backup.catalog`` when repositories no planned action of the series lists again
    hold other snapshots than the state says (an apply killed after a snapshot, a copy or a
    prune, before it saved the state)."""
    observed = ctx.observed.get(f"backup.{name}")
    if observed is None or "catalog" not in observed.facts:
        return []
    recorded = ctx.recorded_data.get(f"backup.{name}", {})
    if "catalog" not in recorded:
        return []  # nothing recorded yet: the series' first action records its catalog
    repos = [r for r in [policy.repository, *policy.copies] if r not in touched]
    held = _catalog_ids(observed.facts, repos)
    listed = _catalog_ids(recorded, repos)
    differ = [r for r in repos if held[r] != listed[r]]
    if not differ:
        return []
    return [Action(id=f"backup.{name}/catalog", address=f"backup.{name}", type="backup.catalog",
                   summary=f"record the catalog of {name}: {', '.join(differ)} hold(s) other "
                           "snapshots than the state lists",
                   params={"series": name,
                           "catalog": {r: observed.facts["catalog"][r] for r in differ}})]


def _post_change(ctx: PlanContext, name: str, policy: BackupPolicy,
                 server_plan: Sequence[Action]) -> tuple[Action, CatalogEntry, str] | None:
    """The `backup.create` after a server's change (after its health check), so the newest
    snapshot of its runtime reflects what runs; None when the server is not changing."""
    server = policy.source.server
    if not server_plan or server not in ctx.spec.env.servers or \
            server_plan[-1].type == "server.archive":
        return None
    sid = snapshot_id_for(ctx.now, ctx.plan_id, name, post=True)
    aid = f"backup.{name}/create-after-change"
    action = Action(
        id=aid, address=f"backup.{name}", type="backup.create",
        summary=f"take snapshot {sid} of {name} into {policy.repository} (after the change "
                f"of server.{server}, so the newest snapshot is what runs)",
        params={"series": name, "snapshot_id": sid, "repository": policy.repository,
                "tags": list(policy.tags), "source": source_params(ctx, policy),
                "after_change": True})
    entry = CatalogEntry(id=sid, series=name, repository=policy.repository, created=ctx.now,
                         tags=tuple(policy.tags))
    return action, entry, aid


def backup_freshness(ctx: PlanContext) -> list[Freshness]:
    """Per policy and repository (primary and copies): the newest snapshot's age vs `every`."""
    out = []
    for name, policy in ctx.spec.env.backups.items():
        catalog = series_catalog(ctx, name)
        every = policy.every.total_seconds()
        for repo in [policy.repository, *policy.copies]:
            newest = catalog.newest(repo)
            age = None if newest is None else (ctx.now - newest.created).total_seconds()
            out.append(Freshness(policy=name, repository=repo, newest_age_seconds=age,
                                 every_seconds=every, overdue=age is None or age >= every))
    return out


def _age_td(delta: object) -> str:
    from engine.spec.durations import format_duration

    return format_duration(delta)  # type: ignore[arg-type]


def _age(now: datetime, then: datetime) -> str:
    return _age_td(now - then)
