"""The server planner, data in and data out: levels with their files, conflicts, pack
replacement, new and removed servers, downgrades, rollout order and the plan text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.contracts.models import ObservedResource, Plan
from engine.planning import make_plan
from engine.render.text import render_text
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import ResourceRecord, StateDocument, new_document

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HEAD = """\
environment: t
sites: {primary: {}}
hosts:
  node-a: {site: primary, transport: local, root: /srv/node-a}
products:
  wso2am-4.2.0: {pack: /w/packs/wso2am-4.2.0.zip, updates: /w/updates, patches: /w/patches}
servers:
"""
SERVICE = ("    service: {start: bin/api-manager.sh start, stop: bin/api-manager.sh stop,\n"
           "              health: {http: 'http://127.0.0.1:9763/services/Version', "
           "timeout: 5s}}\n")
PLUGIN = "repository/components/plugins/org.wso2.carbon.apimgt.impl_9.28.116.jar"


def server(name: str, *, level: int = 14, extra: str = "", service: bool = True) -> str:
    return (f"  {name}:\n    host: node-a\n    product: wso2am-4.2.0\n    home: opt/{name}\n"
            f"    update_level: {level}\n" + (SERVICE if service else "") + extra)


def spec_of(*servers: str) -> LoadedSpec:
    env = parse_environment([SourceFile("env.yaml", HEAD + "".join(servers))])
    return LoadedSpec(env, Path("/spec"), ("env.yaml",), "sha256:test", {})


def seen(name: str, level: int | None, facts: dict | None = None,
         patches: tuple[str, ...] = ()) -> ObservedResource:
    home = f"/srv/node-a/opt/{name}"
    if level is None:
        return ObservedResource(address=f"server.{name}", exists=False,
                                attributes={"home": home}, facts=facts or {})
    return ObservedResource(address=f"server.{name}", exists=True, facts=facts or {},
                            attributes={"product": "wso2am-4.2.0", "home": home,
                                        "update_level": level, "patches": list(patches)})


def level_info(n: int, *, conflicts: tuple[str, ...] = (), problems: tuple[str, ...] = (),
               files: int = 1) -> dict:
    return {"added": [f"repository/components/lib/fix-u{n:04d}-{i}.jar" for i in range(files)],
            "modified": [PLUGIN], "removed": [], "problems": list(problems),
            "conflicts": list(conflicts), "platform_version": "4.9.0",
            "package": f"/w/updates/WSO2-CARBON-UPDATE-4.9.0-{n:04d}.zip"}


def plan(spec: LoadedSpec, observed: dict[str, ObservedResource],
         doc: StateDocument | None = None) -> Plan:
    return make_plan(spec, doc or new_document("t"), lambda _d: observed, plan_id="P1", now=NOW)


def by_id(made: Plan) -> dict:
    return {a.id: a for a in made.actions}


def test_in_place_levels_are_listed_one_by_one_with_their_files():
    facts = {"updates": {str(n): level_info(n) for n in range(11, 15)},
             "touched_files": [PLUGIN, "repository/components/lib/fix-u0011-0.jar"],
             "platform_version": "4.9.0"}
    facts["updates"]["13"].update(
        package="/w/updates/WSO2-CARBON-UPDATE-4.9.0-8000.zip",
        notes=["WSO2-CARBON-UPDATE-4.9.0-8000.zip carries update 0013 for kernel 4.9.0"],
        instructions="Shut down the server first.\nRe-publish the APIs.")
    made = plan(spec_of(server("gw-1")), {"server.gw-1": seen("gw-1", 10, facts)})
    ids = [a.id.split("/", 1)[1] for a in made.actions]
    assert ids == ["preflight", "backup", "stop", "update-0011", "update-0012", "update-0013",
                   "update-0014", "start", "health"]
    actions = by_id(made)
    update = actions["server.gw-1/update-0012"]
    assert update.params["package"] == "/w/updates/WSO2-CARBON-UPDATE-4.9.0-0012.zip"
    assert update.params["modified"] == [PLUGIN]
    assert (update.params["product_name"], update.params["product_version"],
            update.params["platform_version"]) == ("wso2am", "4.2.0", "4.9.0")
    assert update.params["pack"] == "/w/packs/wso2am-4.2.0.zip"
    assert actions["server.gw-1/update-0013"].params["package"] == \
        "/w/updates/WSO2-CARBON-UPDATE-4.9.0-8000.zip"
    backup = actions["server.gw-1/backup"]
    assert PLUGIN in backup.params["paths"] and "updates" in backup.params["paths"]
    assert backup.params["levels"] == {"from": 10, "to": 14, "strategy": "in-place"}
    assert [s.type for s in backup.compensation] == [
        "server.stop", "server.restore-backup", "server.start", "server.health"]
    text = render_text(made)
    assert f"~ {PLUGIN}" in text and "+ repository/components/lib/fix-u0013-0.jar" in text
    assert "note: WSO2-CARBON-UPDATE-4.9.0-8000.zip carries update 0013" in text
    assert "instructions: Re-publish the APIs." in text
    assert "on failure: restore gw-1 from its pre-change backup" in text


def test_many_files_are_capped_in_the_plan_text():
    facts = {"updates": {"11": level_info(11, files=9)}}
    made = plan(spec_of(server("gw-1", level=11)), {"server.gw-1": seen("gw-1", 10, facts)})
    text = render_text(made)
    assert "… 6 more" in text
    assert len(by_id(made)["server.gw-1/update-0011"].params["added"]) == 9


def test_conflicts_and_missing_levels_are_problems_and_plan_warnings():
    conflict = f"{PLUGIN}: is sha256:0000…, level 11 expects sha256:1111…"
    facts = {"updates": {"11": level_info(11, conflicts=(conflict,)),
                         "12": level_info(12, problems=("update level 12: "
                                                        "WSO2-CARBON-UPDATE-4.9.0-0012.zip is "
                                                        "missing from /w/updates",))}}
    made = plan(spec_of(server("gw-1", level=12)), {"server.gw-1": seen("gw-1", 10, facts)})
    actions = by_id(made)
    assert actions["server.gw-1/update-0011"].params["problems"] == [conflict]
    assert "0012.zip is missing" in actions["server.gw-1/update-0012"].params["problems"][0]
    text = render_text(made)
    assert f"warning: server.gw-1/update-0011: {conflict}" in text
    assert "warning: server.gw-1/update-0012: update level 12: WSO2-CARBON" in text


def test_overwrite_turns_conflicts_into_overwrites():
    conflict = f"{PLUGIN}: is sha256:0000…, level 11 expects sha256:1111…"
    facts = {"updates": {"11": level_info(11, conflicts=(conflict,))}}
    made = plan(spec_of(server("gw-1", level=11, extra="    conflicts: overwrite\n")),
                {"server.gw-1": seen("gw-1", 10, facts)})
    update = by_id(made)["server.gw-1/update-0011"]
    assert update.params["problems"] == [] and update.params["overwrites"] == [conflict]
    assert update.params["conflicts"] == "overwrite"
    assert f"overwrites conflicting {PLUGIN}" in render_text(made)


def test_replace_strategy_plans_the_updated_pack_with_a_swap_back():
    made = plan(spec_of(server("gw-1", extra="    strategy: replace\n"
                                            "    patches: [WSO2-CARBON-PATCH-4.9.0-0001]\n")),
                {"server.gw-1": seen("gw-1", 10, {"replace": {
                    "pack": "/w/packs/wso2am-4.2.0-level14.zip", "problems": []}},
                    patches=("patch0001",))})
    actions = by_id(made)
    swap = actions["server.gw-1/replace-pack"]
    assert swap.params["pack"] == "/w/packs/wso2am-4.2.0-level14.zip"
    assert swap.params["keep_patches"] == ["patch0001"] and swap.params["plan_id"] == "P1"
    assert [(s.type, s.params["stop"]) for s in swap.compensation] == [
        ("server.swap-back", "bin/api-manager.sh stop")]
    assert not [a for a in made.actions if a.type == "server.update"]
    assert actions["server.gw-1/backup"].params["levels"]["strategy"] == "replace"


def test_a_new_server_is_installed_then_brought_to_its_level():
    facts = {"pack_update_level": -1,
             "updates": {str(n): level_info(n) for n in range(1, 4)}}
    made = plan(spec_of(server("gw-new", level=3)), {"server.gw-new": seen("gw-new", None, facts)})
    ids = [a.id.split("/", 1)[1] for a in made.actions]
    assert ids == ["install", "update-0001", "update-0002", "update-0003", "start", "health"]
    install = by_id(made)["server.gw-new/install"]
    assert install.params["pack"] == "/w/packs/wso2am-4.2.0.zip"
    assert install.params["home"] == "/srv/node-a/opt/gw-new"


def test_going_down_a_level_uses_the_change_backups_found():
    chain = [{"id": "P0", "dir": "/srv/node-a/.drydock/change-backups/gw-1/P0",
              "from_level": 10, "to_level": 14}]
    made = plan(spec_of(server("gw-1", level=10)), {"server.gw-1": seen("gw-1", 14, {
        "downgrade": {"chain": chain, "problems": []}, "touched_files": [PLUGIN]})})
    actions = by_id(made)
    down = actions["server.gw-1/downgrade"]
    assert down.params["chain"] == chain and down.params["to_level"] == 10
    assert "from change backups (P0)" in down.summary
    assert actions["server.gw-1/preflight"].params["strategy"] == "downgrade"
    assert PLUGIN in actions["server.gw-1/backup"].params["paths"]


def test_going_down_without_a_backup_is_a_warning():
    problem = "gw-1: no change backup leads down from update level 14 towards 10 (none)"
    made = plan(spec_of(server("gw-1", level=10)), {"server.gw-1": seen("gw-1", 14, {
        "downgrade": {"chain": [], "problems": [problem]}})})
    assert f"warning: server.gw-1/downgrade: {problem}" in render_text(made)
    assert by_id(made)["server.gw-1/preflight"].params["problem"] == problem


def test_a_removed_server_is_stopped_with_its_recorded_command_and_archived():
    doc = new_document("t")
    record = ResourceRecord(kind="server", name="gw-old", attributes={
        "home": "/srv/node-a/opt/gw-old", "product": "wso2am-4.2.0"}, data={
        "host_root": "/srv/node-a", "service": {"start": "bin/x.sh start",
                                                "stop": "bin/x.sh stop"}})
    doc = doc.model_copy(update={"resources": {"server.gw-old": record}})
    made = plan(spec_of(), {"server.gw-old": seen("gw-old", 14)}, doc)
    actions = by_id(made)
    assert actions["server.gw-old/stop"].params["stop"] == "bin/x.sh stop"
    assert actions["server.gw-old/archive"].params["archive"] == \
        "/srv/node-a/.drydock/archived/gw-old-P1.tar.zst"
    assert actions["server.gw-old/archive"].depends_on == ("server.gw-old/stop",)
    assert made.records[0].remove


def test_a_removed_server_without_a_service_is_only_archived():
    doc = new_document("t")
    record = ResourceRecord(kind="server", name="gw-old",
                            attributes={"home": "/srv/node-a/opt/gw-old"})
    doc = doc.model_copy(update={"resources": {"server.gw-old": record}})
    made = plan(spec_of(), {"server.gw-old": seen("gw-old", 14)}, doc)
    assert [a.type for a in made.actions] == ["server.archive"]


def test_a_rollout_group_changes_one_server_at_a_time_in_order():
    group = "    rollout: {group: gateways, max_unavailable: 1}\n"
    facts = {"updates": {"11": level_info(11)}}
    names = ("gw-1", "gw-2", "gw-3")
    made = plan(spec_of(*(server(n, level=11, extra=group) for n in names)),
                {f"server.{n}": seen(n, 10, facts) for n in names})
    actions = by_id(made)
    assert "server.gw-1/health" in actions["server.gw-2/preflight"].depends_on
    assert "server.gw-2/health" in actions["server.gw-3/preflight"].depends_on
    text = render_text(made)
    for i in range(1, 4):
        assert f"rollout group gateways: server {i} of 3" in text
    assert text.index("server 1 of 3") < text.index("server 2 of 3") < text.index("server 3 of 3")


def test_two_may_be_unavailable_at_once():
    group = "    rollout: {group: gateways, max_unavailable: 2}\n"
    facts = {"updates": {"11": level_info(11)}}
    names = ("gw-1", "gw-2", "gw-3")
    made = plan(spec_of(*(server(n, level=11, extra=group) for n in names)),
                {f"server.{n}": seen(n, 10, facts) for n in names})
    actions = by_id(made)
    assert actions["server.gw-2/preflight"].depends_on == ()
    assert "server.gw-1/health" in actions["server.gw-3/preflight"].depends_on
