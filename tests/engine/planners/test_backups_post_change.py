"""Post-change snapshots, data in and data out: a changing server's runtime series gets a
snapshot after the change's last step, copied like any other, newer than the pre-change
one taken at the same instant, and counted by retention with its reasons."""

from __future__ import annotations

from pathlib import Path

from engine.contracts.models import Action
from engine.planners.backups import plan_backups, snapshot_id_for
from engine.planners.base import PlanContext
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from tests.engine.planners.test_backups_planner import NOW, SPEC, by_type, ctx, entries

CHAIN = [Action(id=f"server.s/{step}", address="server.s", type=f"server.{step}", summary=step)
         for step in ("backup", "stop", "update", "start", "health")]


SPEC_COPIED = SPEC.replace("""    every: 7d
    keep: {last: 5}
    repository: va
""", """    every: 7d
    keep: {daily: 1}
    repository: va
    copies: [vb]
""")


def copy_spec() -> PlanContext:
    """The test spec with the server series copied to vb and keeping one daily."""
    assert SPEC_COPIED != SPEC
    loaded = LoadedSpec(parse_environment([SourceFile("t.yaml", SPEC_COPIED)]), Path("/spec"),
                        ("t.yaml",), "d")
    base = ctx({"db": entries("va", "db", [1]) + entries("vb", "db", [1]),
                "srv": entries("va", "srv", [30]) + entries("vb", "srv", [30])})
    return PlanContext(spec=loaded, plan_id="plan1", now=NOW, observed=base.observed)


def test_the_snapshot_after_the_change_waits_for_the_health_check() -> None:
    actions, edges = plan_backups(copy_spec(), {"server.s": CHAIN})
    post = next(a for a in actions if a.id == "backup.srv/create-after-change")
    assert ("server.s/health", post.id) in edges
    assert post.params["after_change"] is True
    assert post.params["source"]["kind"] == "server"
    assert "after the change of server.s" in post.summary


def test_its_id_sorts_after_the_pre_change_one_of_the_same_instant() -> None:
    before = snapshot_id_for(NOW, "plan1", "srv")
    after = snapshot_id_for(NOW, "plan1", "srv", post=True)
    assert before < after and after.startswith(NOW.strftime("%Y%m%dT%H%M%SZ") + "-post-")
    assert snapshot_id_for(NOW, "plan2", "srv", post=True) != after


def test_it_is_copied_and_retention_keeps_it_saying_why() -> None:
    actions, _ = plan_backups(copy_spec(), {"server.s": CHAIN})
    post_id = snapshot_id_for(NOW, "plan1", "srv", post=True)
    pre_id = snapshot_id_for(NOW, "plan1", "srv")
    copy = next(a for a in by_type(actions, "backup.copy")
                if a.params["snapshot_id"] == post_id)
    assert copy.params["to"] == "vb"
    assert copy.depends_on == ("backup.srv/create-after-change",)
    prune = next(a for a in actions if a.id == "backup.srv/prune-va")
    keeps = {k["id"]: k["reasons"] for k in prune.params["keeps"]}
    assert keeps[post_id] == ["daily snapshot"]  # one daily: the newest of the day wins
    deleted = {d["id"] for d in prune.params["deletes"]}
    assert pre_id in deleted and "srv-30h" in deleted and post_id not in deleted
    assert "backup.srv/create-after-change" in prune.depends_on


def test_the_artifact_sources_travel_with_the_server_source() -> None:
    actions, _ = plan_backups(copy_spec(), {"server.s": CHAIN})
    post = next(a for a in actions if a.id == "backup.srv/create-after-change")
    sources = post.params["source"]["artifacts"]
    assert sources["pack"] == "/p.zip" and sources["updates"] == "/spec"
    assert sources["patch_ids"] == {}


def test_no_change_no_post_change_snapshot() -> None:
    actions, _ = plan_backups(copy_spec(), {})
    assert not [a for a in actions if a.params.get("after_change")]
