"""Pruning replicated artifacts, data in and data out: only what no remaining snapshot of
any series names, after every other backup action on that repository."""

from __future__ import annotations

from engine.contracts.catalog import CatalogEntry, catalog_to_data
from engine.contracts.models import Action, ObservedResource
from engine.planners.backup_artifacts import digests_named, plan_artifact_prunes
from engine.planners.base import PlanContext
from tests.engine.planners.test_backups_planner import NOW, spec

A, B, C = "a" * 64, "b" * 64, "c" * 64


def context(present: dict[str, list[str]], named: dict[str, list[str]]) -> PlanContext:
    entries = [CatalogEntry(id=sid, series="srv", repository="va", created=NOW,
                            facts={"artifacts": digests}) for sid, digests in named.items()]
    observed = {"backup.srv": ObservedResource(
        address="backup.srv", exists=True,
        facts={"catalog": catalog_to_data(entries), "artifacts": present})}
    return PlanContext(spec=spec(), plan_id="p", now=NOW, observed=observed)


def prune(ids: list[str]) -> Action:
    return Action(id="backup.srv/prune-va", address="backup.srv", type="backup.prune",
                  summary="x", params={"series": "srv", "repository": "va",
                                       "deletes": [{"id": i} for i in ids]})


def test_what_a_pruned_snapshot_alone_named_goes_after_the_prune() -> None:
    ctx = context({"va": [A, B, C]}, {"old": [A, B], "new": [A]})
    create = Action(id="backup.srv/create", address="backup.srv", type="backup.create",
                    summary="x", params={"repository": "va"})
    actions = plan_artifact_prunes(ctx, [create, prune(["old"])])
    assert len(actions) == 1
    action = actions[0]
    assert action.type == "backup.prune-artifacts" and action.risky
    assert action.params == {"repository": "va", "unused": [B, C]}
    assert set(action.depends_on) == {"backup.srv/create", "backup.srv/prune-va"}


def test_nothing_unused_nothing_planned() -> None:
    assert plan_artifact_prunes(context({"va": [A]}, {"s1": [A]}), []) == []
    assert plan_artifact_prunes(context({}, {"s1": [A]}), []) == []


def test_references_and_bare_digests_both_count() -> None:
    assert digests_named({"artifacts": [{"sha256": A}, B, 3]}) == {A, B}
