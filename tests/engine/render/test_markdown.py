"""The pull-request comment: summary table, risky items first, bounded size, deterministic."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.contracts.models import (
    Action,
    AttrDiff,
    Change,
    Drift,
    FileDiff,
    GitInfo,
    Plan,
    StateRef,
)
from engine.planners.assemble import summarise
from engine.render.markdown import LIMIT, plan_marker, render_markdown, summary_rows
from engine.specdiff import KeyChange, ResourceDiff, SpecDiff

WHEN = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _plan(changes: list[Change], actions: list[Action], drift: list[Drift] | None = None,
          warnings: tuple[str, ...] = ()) -> Plan:
    drift = drift or []
    return Plan(id="20260301T100000Z-abc123", environment="prod", created_at=WHEN,
                spec_digest="sha256:" + "0" * 64,
                git=GitInfo(commit="f" * 40, branch="feature/x", dirty=False),
                state=StateRef(lineage="L", serial=7), changes=tuple(changes),
                drift=tuple(drift), actions=tuple(actions), warnings=warnings,
                summary=summarise(changes, drift, actions))


def _big_plan(servers: int = 2000, deleted_every: int = 7) -> tuple[Plan, list[str], list[str]]:
    """A plan over `servers` servers: updates with file diffs, some deletions, prunes."""
    changes: list[Change] = []
    actions: list[Action] = []
    deleted: list[str] = []
    for i in range(servers):
        address = f"server.gw-{i:04d}"
        if i % deleted_every == 0:
            deleted.append(address)
            changes.append(Change(address=address, kind="server", action="delete",
                                  reason="removed from the spec",
                                  diffs=(AttrDiff(name="update_level", before=14),)))
            actions.append(Action(id=f"{address}/remove", address=address, type="server.remove",
                                  summary=f"remove gw-{i:04d} and its home", risky=True))
            continue
        diff = "".join(f"-old line {n}\n+new line {n}\n" for n in range(6))
        changes.append(Change(
            address=address, kind="server", action="update", reason="update_level 14 → 15",
            diffs=(AttrDiff(name="update_level", before=14, after=15),
                   AttrDiff(name="config:repository/conf/deployment.toml", before="sha256:a",
                            after="sha256:b")),
            file_diffs=(FileDiff(path="repository/conf/deployment.toml",
                                 unified=f"--- a\n+++ b\n@@ -1 +1 @@\n{diff}"),)))
        for step in ("backup", "stop", "update-0015", "config", "start"):
            type_ = {"update-0015": "server.update"}.get(step, f"server.{step}")
            actions.append(Action(id=f"{address}/{step}", address=address, type=type_,
                                  summary=f"{step} on gw-{i:04d} with a fairly long summary "
                                          "so the actions list is big"))
    prunes = []
    for p in range(40):
        address = f"backup.policy-{p:02d}"
        actions.append(Action(id=f"{address}/create", address=address, type="backup.create",
                              summary=f"back up policy-{p:02d}"))
        prune = Action(id=f"{address}/prune-primary", address=address, type="backup.prune",
                       summary=f"prune 3 snapshots of policy-{p:02d} in primary-vault",
                       params={"deletes": [{"id": f"s{p}-{n}", "reason": "not kept"}
                                           for n in range(3)]})
        actions.append(prune)
        prunes.append(prune.id)
    actions.append(Action(id="drill.db-restore/run", address="drill.db-restore",
                          type="drill.run", summary="restore db into scratch"))
    drift = [Drift(address="server.gw-0001", kind="server", reason="changed outside drydock",
                   diffs=(AttrDiff(name="patches", before=[], after=["patch0009"]),))]
    return _plan(changes, actions, drift), deleted, prunes


def _balanced(md: str) -> None:
    assert md.count("<details") == md.count("</details>")
    fences = [line for line in md.splitlines() if re.fullmatch(r"`{3,}(diff)?", line)]
    assert len(fences) % 2 == 0


def test_two_thousand_servers_stay_under_the_limit_with_every_deletion_and_prune() -> None:
    plan, deleted, prunes = _big_plan()
    md = render_markdown(plan, full_plan_hint="https://ci.example/run/42")
    assert len(md) <= LIMIT
    assert len(deleted) == 286
    missing = [a for a in deleted if f"`{a}`" not in md]
    assert missing == []
    assert [p for p in prunes if p not in md] == []
    assert md.rstrip().endswith("The full plan is https://ci.example/run/42._")
    _balanced(md)


def test_deletions_and_prunes_come_before_any_detail() -> None:
    plan, deleted, prunes = _big_plan(servers=50)
    md = render_markdown(plan)
    first_details = md.index("<details")
    assert md.index("Needs attention") < first_details
    assert all(md.index(f"`{a}`") < first_details for a in deleted)
    assert all(md.index(p) < first_details for p in prunes)
    assert "prune 3 snapshots of policy-00 in primary-vault (`s0-0`, `s0-1`, `s0-2`)" in md


def test_when_everything_is_deleted_the_names_are_compacted_not_cut() -> None:
    plan, deleted, _ = _big_plan(servers=2000, deleted_every=1)
    md = render_markdown(plan)
    assert len(md) <= LIMIT
    assert len(deleted) == 2000
    assert [a for a in deleted if a.split(".", 1)[1] not in md] == []
    assert "**delete server** (2000)" in md
    _balanced(md)


def test_tight_limit_still_keeps_deletions_and_closes_every_block() -> None:
    plan, deleted, prunes = _big_plan(servers=30, deleted_every=10)
    md = render_markdown(plan, limit=4000)
    assert len(md) <= 4000
    assert all(a in md for a in deleted)
    assert all(p in md for p in prunes)
    assert "Plan truncated to stay under 4000 characters" in md
    _balanced(md)


def test_rendering_is_deterministic() -> None:
    plan, _, _ = _big_plan(servers=300)
    assert render_markdown(plan) == render_markdown(plan.model_copy(deep=True))


def test_summary_table_counts_by_type_prefix() -> None:
    plan, deleted, _ = _big_plan(servers=70)
    rows = dict(summary_rows(plan))
    assert rows["Resources to remove"] == str(len(deleted))
    assert rows["Resources to change"] == str(70 - len(deleted))
    assert rows["Backups to take (`backup.create`)"] == "40"
    assert rows["Prunes (`backup.prune`)"] == "40 (120 snapshots)"
    assert rows["Drills (`drill.*`)"] == "1"
    assert rows["Servers stopped (`server.stop`)"] == str(70 - len(deleted))
    assert rows["Drift (changed outside drydock)"] == "1"
    md = render_markdown(plan)
    assert "| Prunes (`backup.prune`) | 40 (120 snapshots) |" in md


def test_small_plan_is_complete_and_starts_with_the_marker() -> None:
    change = Change(address="database.app_db", kind="database", action="create",
                    reason="not in the state yet",
                    diffs=(AttrDiff(name="engine", after="sqlite"),))
    action = Action(id="database.app_db/create", address="database.app_db",
                    type="database.create", summary="create sqlite database app_db")
    md = render_markdown(_plan([change], [action], warnings=("journal <was> replayed",)))
    lines = md.splitlines()
    assert lines[0] == plan_marker("prod") == "<!-- drydock-plan:prod -->"
    assert lines[1] == "### drydock plan: `prod`"
    assert "spec `feature/x@ffffffffff`" in md and "state serial 7" in md
    assert "Needs attention" not in md
    assert "truncated" not in md
    assert "+ database.app_db (create: not in the state yet)" in md
    assert "1. `database.create` create sqlite database app_db" in md
    assert "> warning: journal &lt;was&gt; replayed" in md
    assert lines[-1] == ("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy; "
                         "1 action.")


def test_risky_actions_are_flagged_and_html_in_summaries_is_escaped() -> None:
    actions = [Action(id="server.a/stop", address="server.a", type="server.stop",
                      summary="stop <a> & wait"),
               Action(id="database.d/restore", address="database.d", type="database.restore",
                      summary="restore d"),
               Action(id="server.b/flagged", address="server.b", type="server.custom",
                      summary="planner says risky", risky=True)]
    md = render_markdown(_plan([], actions))
    attention = md[md.index("Needs attention"):md.index("<details")]
    assert "`server.stop` stop &lt;a&gt; &amp; wait" in attention
    assert "`database.restore` restore d" in attention
    assert "`server.custom` planner says risky" in attention
    assert "| Restores | 1 |" in md


def test_many_other_risky_actions_are_grouped_by_type() -> None:
    actions = [Action(id=f"server.s{i}/stop", address=f"server.s{i}", type="server.stop",
                      summary="stop " + "x" * 100) for i in range(1000)]
    md = render_markdown(_plan([], actions), limit=20_000)
    assert len(md) <= 20_000
    assert "- ⚠️ `server.stop` × 1000: `server.s0`, `server.s1`" in md
    assert "and 980 more" in md


def test_spec_diff_comes_first_and_backticks_in_file_diffs_get_a_longer_fence() -> None:
    change = Change(address="server.gw-1", kind="server", action="update", reason="config",
                    file_diffs=(FileDiff(path="x.md", unified="-```\n+````\n"),))
    diff = SpecDiff(base_ref="origin/main", base_commit="1" * 40, resources=(
        ResourceDiff(address="server.gw-1", status="changed",
                     keys=(KeyChange(key="update_level", status="changed", before=14,
                                     after=15),)),))
    md = render_markdown(_plan([change], []), spec_diff=diff)
    assert md.index("Spec changes since origin/main") < md.index("Changes (1)")
    assert "<details open><summary>Spec changes since origin/main (merge-base 1111111111): " \
           "0 added, 0 removed, 1 changed</summary>" in md
    assert "    ~ update_level: 14 → 15" in md
    assert "`````diff" in md
    _balanced(md)


def test_empty_plan_says_no_changes() -> None:
    md = render_markdown(_plan([], []))
    assert "No changes. The environment matches the spec." in md
    assert "| Actions | 0 |" in md


def test_action_problems_are_warnings_and_details_sit_under_their_action() -> None:
    update = Action(id="server.gw-1/update-0015", address="server.gw-1", type="server.update",
                    summary="update gw-1 to level 15",
                    params={"added": ["repository/components/plugins/a_1.0.jar"],
                            "notes": ["package named <wso2am-4.2.0+15>, descriptor says 16"],
                            "problems": ["update package for level 15 is missing"]})
    prune = Action(id="backup.db/prune-primary", address="backup.db", type="backup.prune",
                   summary="prune 1 snapshot of db in primary-vault",
                   params={"deletes": [{"id": "s1", "created": "2026-01-01T00:00:00Z",
                                        "reason": "not kept by daily=7"}]})
    md = render_markdown(_plan([], [update, prune]))
    assert ("> warning: server.gw-1/update-0015: update package for level 15 is missing"
            in md)
    lines = md.splitlines()
    first = lines.index("1. `server.update` update gw-1 to level 15")
    assert lines[first + 1:first + 4] == [
        "   - + repository/components/plugins/a_1.0.jar",
        "   - note: package named &lt;wso2am-4.2.0+15&gt;, descriptor says 16",
        "   - ! update package for level 15 is missing"]
    assert "   - - s1 (2026-01-01T00:00:00Z): not kept by daily=7" in lines
    _balanced(md)
