"""Prune replicated artifacts no snapshot needs any more (pure).

A repository holding server runtime snapshots keeps the packs, update packages and patch
archives they name (`source.facts.artifacts`). Once retention has deleted the last
snapshot naming an archive, the archive goes too: one `backup.prune-artifacts` per
repository, after every other backup action on it in the plan, lists the digests the
refresh found there that no remaining snapshot of any policy names. Apply re-reads every
manifest in the repository first and deletes only what still none names (a snapshot
written since, or a series the spec no longer declares, keeps its archives).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from engine.contracts.models import Action
from engine.planners.backups import series_catalog
from engine.planners.base import PlanContext


def digests_named(facts: dict[str, Any]) -> set[str]:
    """The artifact digests one snapshot's facts name (references or bare digests)."""
    found: set[str] = set()
    for ref in facts.get("artifacts") or []:
        digest = ref.get("sha256") if isinstance(ref, dict) else ref
        if isinstance(digest, str):
            found.add(digest)
    return found


def _deleted(actions: Iterable[Action], repo: str) -> set[tuple[str, str]]:
    return {(a.params["series"], d["id"]) for a in actions
            if a.type == "backup.prune" and a.params.get("repository") == repo
            for d in a.params.get("deletes", [])}


def plan_artifact_prunes(ctx: PlanContext, backup_actions: Sequence[Action]) -> list[Action]:
    """One `backup.prune-artifacts` per repository that holds artifacts nothing will name
    once this plan's prunes ran; it waits for every backup action on that repository."""
    present: dict[str, set[str]] = {}
    owner: dict[str, str] = {}
    for name in sorted(ctx.spec.env.backups):
        observed = ctx.observed.get(f"backup.{name}")
        found = (observed.facts.get("artifacts") or {}) if observed is not None else {}
        for repo, digests in found.items():
            present.setdefault(repo, set()).update(digests)
            owner.setdefault(repo, name)
    actions = []
    for repo in sorted(present):
        gone = _deleted(backup_actions, repo)
        named: set[str] = set()
        for name in ctx.spec.env.backups:
            for entry in series_catalog(ctx, name).repos.get(repo, ()):
                if (name, entry.id) not in gone:
                    named |= digests_named(entry.facts)
        unused = sorted(present[repo] - named)
        if not unused:
            continue
        after = tuple(a.id for a in backup_actions if repo in (
            a.params.get("repository"), a.params.get("to")))
        address = f"backup.{owner[repo]}"
        actions.append(Action(
            id=f"{address}/prune-artifacts-{repo}", address=address,
            type="backup.prune-artifacts",
            summary=f"delete {len(unused)} replicated artifact(s) from {repo} that no snapshot "
                    "names any more",
            params={"repository": repo, "unused": unused}, depends_on=after, risky=True))
    return actions
