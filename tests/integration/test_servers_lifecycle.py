"""Server lifecycles end to end with real processes and real HTTP health checks: update
levels in place, pack replacement, new and removed servers, rolling groups with a real
failure, refused conflicts, going down a level, and restoring patches from a change backup."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from engine.render.text import render_text
from state.document import from_bytes
from tests.helpers.servers import (
    CHILD_ENV,
    Estate,
    Gateway,
    home_at_level,
    http_get,
    level_pack,
    server_status,
    tree,
)
from tests.helpers.world import DRYDOCK

IMPL = "repository/components/plugins/org.wso2.carbon.apimgt.impl_9.28.116.jar"


def recorded(estate: Estate) -> dict:
    doc = from_bytes((estate.spec / "state" / "t.json").read_bytes(), source="test")
    return {a: r for a, r in doc.resources.items()}


def running_level(gateway: Gateway) -> int | None:
    status = server_status(gateway)
    return None if status is None else status["update_level"]


def test_update_10_to_14_in_place_through_the_cli(estate: Estate) -> None:
    home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    estate.run("apply", ".", "--auto-approve", check=0)
    assert running_level(gw) == 10
    gw.level = 14
    estate.declare(gw)
    shown = estate.run("plan", ".", check=0).stdout
    for level in (11, 12, 13, 14):
        assert f"apply update level {level} to gw-1" in shown
    assert f"~ {IMPL}" in shown
    assert "+ repository/components/lib/wso2-fixlib-u0012_1.0.0.jar" in shown
    estate.run("apply", ".", "--auto-approve", check=0)
    status = server_status(gw)
    assert status is not None and status["update_level"] == 14
    assert status["patches"] == ["patch0001"]
    config = json.loads((estate.home("gw-1") / "updates/config.json").read_text())
    assert config["update-level"] == "14" and config["username"] == "ops@example.com"
    assert recorded(estate)["server.gw-1"].attributes["update_level"] == 14
    estate.run("plan", ".", "--detailed-exitcode", check=0)


def test_replace_pack_update_carries_runtime_data(estate: Estate) -> None:
    level_pack(estate, 14)
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,), strategy="replace")
    estate.declare(gw)
    assert estate.apply()[1].ok
    api = home / "repository/deployment/server/synapse-configs/default/api/Pizza.xml"
    api.write_text("<api name='Pizza'/>\n")
    gw.level = 14
    estate.declare(gw)
    made, result, _doc = estate.apply()
    assert result.ok, [r.message for r in result.reports if r.status == "failed"]
    assert "replace gw-1's home with wso2am-4.2.0-level14.zip" in render_text(made)
    status = server_status(gw)
    assert status is not None and status["update_level"] == 14
    assert status["patches"] == ["patch0001"]
    assert api.read_text() == "<api name='Pizza'/>\n"
    kept = home.with_name(f"gw-1.previous-{made.id}")
    assert json.loads((kept / "updates/config.json").read_text())["update-level"] == "10"
    config = json.loads((home / "updates/config.json").read_text())
    assert config["update-level"] == "14" and config["username"] == "ops@example.com"


def test_a_failed_replacement_swaps_the_old_home_back(estate: Estate) -> None:
    level_pack(estate, 14)
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, strategy="replace")
    estate.declare(gw)
    assert estate.apply()[1].ok
    before, pid = tree(home), server_status(gw)["pid"]
    estate.declare(Gateway("gw-1", port=gw.port, level=14, strategy="replace", fail=True))
    made, result, _doc = estate.apply()
    failed = [r for r in result.reports if r.status == "failed"]
    assert [r.id for r in failed] == ["server.gw-1/health"]
    undo = [r for r in result.reports if r.compensation_of]
    assert [r.type for r in undo] == ["server.swap-back", "server.stop", "server.restore-backup",
                                      "server.start", "server.health"]
    assert all(r.status == "ok" for r in undo)
    status = server_status(gw)
    assert status is not None and status["update_level"] == 10 and status["healthy"]
    assert status["pid"] != pid
    assert tree(home) == before
    assert json.loads((home.with_name(f"gw-1.failed-{made.id}") / "updates/config.json")
                      .read_text())["update-level"] == "14"


def test_a_new_server_is_created_from_the_pack(estate: Estate) -> None:
    gw = Gateway("gw-new", level=12, patches=(2,))
    estate.declare(gw)
    made, result, _doc = estate.apply()
    assert result.ok, [r.message for r in result.reports if r.status == "failed"]
    assert made.actions[0].type == "server.install"
    status = server_status(gw)
    assert status is not None
    assert (status["update_level"], status["patches"]) == (12, ["patch0002"])
    record = recorded(estate)["server.gw-new"]
    assert record.attributes["update_level"] == 12
    assert record.data["service"]["stop"] == "bin/api-manager.sh stop"


def test_a_rolling_update_stops_at_the_failing_server_and_restores_it(estate: Estate) -> None:
    names = ("gw-1", "gw-2", "gw-3")
    gws = [Gateway(n, level=10, patches=(1, 2), group="gateways") for n in names]
    for gw in gws:
        home_at_level(estate, gw.name, 10)
    estate.declare(*gws)
    assert estate.apply()[1].ok
    before = {n: tree(estate.home(n)) for n in names}
    pids = {gw.name: server_status(gw)["pid"] for gw in gws}
    for gw in gws:
        gw.level, gw.fail = 14, gw.name == "gw-2"
    estate.declare(*gws)
    made, result, _doc = estate.apply()
    text = render_text(made)
    assert "rollout group gateways: server 2 of 3" in text
    assert "on failure: restore gw-2 from its pre-change backup" in text
    status = {r.id: r.status for r in result.reports if r.compensation_of is None}
    assert status["server.gw-1/health"] == "ok"
    assert status["server.gw-2/health"] == "failed"
    assert {s for i, s in status.items() if i.startswith("server.gw-3/")} == {"skipped"}
    undo = [r for r in result.reports if r.compensation_of]
    assert [r.type for r in undo] == ["server.stop", "server.restore-backup", "server.start",
                                      "server.health"]
    assert all(r.status == "ok" and r.address == "server.gw-2" for r in undo)
    assert running_level(gws[0]) == 14
    restored = server_status(gws[1])
    assert restored is not None and restored["update_level"] == 10 and restored["healthy"]
    assert restored["patches"] == ["patch0001", "patch0002"]
    assert tree(estate.home("gw-2")) == before["gw-2"]
    assert tree(estate.home("gw-3")) == before["gw-3"]
    assert server_status(gws[2])["pid"] == pids["gw-3"]
    records = recorded(estate)
    assert records["server.gw-1"].attributes["update_level"] == 14
    assert records["server.gw-2"].attributes["update_level"] == 10


def test_conflicts_are_refused_with_file_names_before_anything_stops(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10)
    estate.declare(gw)
    assert estate.apply()[1].ok
    (home / IMPL).write_bytes(b"a hotfix copied in by hand")
    before, pid = tree(home), server_status(gw)["pid"]
    gw.level = 14
    estate.declare(gw)
    shown = estate.run("plan", ".", check=0).stdout
    assert f"warning: server.gw-1/update-0011: {IMPL}: is sha256:" in shown
    proc = estate.run("apply", ".", "--auto-approve", check=1)
    assert "refused before anything changed" in proc.stderr and IMPL in proc.stderr
    assert "conflicts: overwrite" in proc.stderr
    assert tree(home) == before and server_status(gw)["pid"] == pid
    gw.conflicts = "overwrite"
    estate.declare(gw)
    estate.run("apply", ".", "--auto-approve", check=0)
    assert running_level(gw) == 14
    assert (home / IMPL).read_bytes() != b"a hotfix copied in by hand"


def test_a_missing_level_is_a_plan_warning_and_refused_at_apply(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10)
    estate.declare(gw)
    assert estate.apply()[1].ok
    (estate.world / "updates" / "WSO2-CARBON-UPDATE-4.9.0-0013.zip").unlink()
    before, pid = tree(home), server_status(gw)["pid"]
    gw.level = 14
    estate.declare(gw)
    made, result, _doc = estate.apply()
    assert "warning: server.gw-1/update-0013: update level 13: no package in " in render_text(
        made) and "WSO2-CARBON-UPDATE-4.9.0-0013.zip there" in render_text(made)
    failed = [r for r in result.reports if r.status == "failed"]
    assert [r.id for r in failed] == ["server.gw-1/preflight"]
    assert "carries update 0013 for wso2am-4.2.0" in failed[0].message
    assert tree(home) == before and server_status(gw)["pid"] == pid


def test_a_removed_server_is_stopped_and_its_home_archived(estate: Estate) -> None:
    keep, gone = Gateway("gw-1", level=10), Gateway("gw-2", level=10)
    for gw in (keep, gone):
        home_at_level(estate, gw.name, 10)
    estate.declare(keep, gone)
    assert estate.apply()[1].ok
    assert server_status(gone) is not None
    estate.declare(keep)
    made, result, _doc = estate.apply()
    assert result.ok, [r.message for r in result.reports if r.status == "failed"]
    assert [a.type for a in made.actions] == ["server.stop", "server.archive"]
    assert server_status(gone) is None and server_status(keep) is not None
    assert not estate.home("gw-2").exists()
    archive = estate.world / "primary" / ".drydock" / "archived" / f"gw-2-{made.id}.tar.zst"
    assert archive.is_file() and archive.stat().st_size > 0
    assert "server.gw-2" not in recorded(estate)


def test_going_down_a_level_restores_the_change_backup_taken_at_it(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    assert estate.apply()[1].ok
    at_ten = tree(home)
    gw.level = 14
    estate.declare(gw)
    assert estate.apply()[1].ok
    gw.level = 10
    estate.declare(gw)
    made, result, _doc = estate.apply()
    assert result.ok, [r.message for r in result.reports if r.status == "failed"]
    assert any(a.type == "server.downgrade" for a in made.actions)
    assert running_level(gw) == 10
    assert tree(home) == at_ten
    gw.level = 8
    estate.declare(gw)
    made, result, _doc = estate.apply()
    assert "no change backup leads down from update level 10 towards 8" in render_text(made)
    failed = [r for r in result.reports if r.status == "failed"]
    assert [r.id for r in failed] == ["server.gw-1/preflight"]
    assert running_level(gw) == 10


def test_restore_patches_from_another_servers_change_backup(estate: Estate) -> None:
    source, target = Gateway("gw-1", level=10, patches=(1, 2)), Gateway("gw-2", level=10,
                                                                        patches=(3,))
    for gw in (source, target):
        home_at_level(estate, gw.name, 10)
    estate.declare(source, target)
    assert estate.apply()[1].ok
    source.level = 11
    estate.declare(source, target)
    made, result, _doc = estate.apply()
    assert result.ok
    before = recorded(estate)["server.gw-2"].attributes
    proc = estate.run("restore", f"gw-1@{made.id}", "--to", "server.gw-2", "--only", "patches",
                      "--env", ".", "--auto-approve", check=0)
    assert "restore repository/components/patches of gw-2 from change backup" in proc.stdout
    assert "the spec declares patches ['patch0003'] for server.gw-2" in proc.stdout
    status = server_status(target)
    assert status is not None and status["patches"] == ["patch0001", "patch0002"]
    after = recorded(estate)["server.gw-2"].attributes
    assert after == {**before, "patches": ["patch0001", "patch0002"]}
    assert sorted(p.name for p in (estate.home("gw-2") / "repository/components/patches")
                  .iterdir() if not p.name.startswith(".")) == [
        "patch0000", "patch0001", "patch0002"]


def test_restore_latest_and_a_missing_backup(estate: Estate) -> None:
    source, target = Gateway("gw-1", level=10, patches=(2,)), Gateway("gw-2", level=10)
    for gw in (source, target):
        home_at_level(estate, gw.name, 10)
    estate.declare(source, target)
    assert estate.apply()[1].ok
    proc = estate.run("restore", "gw-1@nope", "--to", "server.gw-2", "--env", ".",
                      "--auto-approve", check=1)
    assert "gw-1 has no complete change backup 'nope'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    estate.run("restore", "gw-1@latest", "--to", "server.gw-2", "--env", ".",
               "--auto-approve", check=0)
    assert server_status(target)["patches"] == []  # the latest backup predates patch0002
    proc = estate.run("restore", "some-snapshot-id", "--to", "server.gw-2", "--env", ".",
                      check=1)
    # a name without '@' is a backup snapshot: looked up in the repositories, not found
    assert "snapshot some-snapshot-id is in none of the repositories" in proc.stderr


def test_the_demo_rolls_the_gateways_to_level_14_and_stops_them(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "specs" / "demo"
    copy = tmp_path / "demo"
    copy.mkdir()
    for path in [*demo.glob("*.yaml"), demo / "templates"]:
        if path.name == "ports.local.yaml":
            continue
        target = copy / path.name
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            shutil.copy(path, target)
    proc = subprocess.run([*DRYDOCK, "demo", str(copy)], capture_output=True, text=True,
                          env={**os.environ, **CHILD_ENV}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out, progress = proc.stdout, proc.stderr
    assert "rollout group gateways: server 2 of 2" in out
    assert "apply update level 14 to gw-2 (WSO2-CARBON-UPDATE-4.9.0-0014.zip)" in out
    assert "on Carbon kernel 4.9.0" in out and "instructions: " in out
    assert "not copied by drydock: WSO2-CARBON-PATCH-4.9.0-0002/lib/" in out
    assert 'update-level "14" (str, as the update client writes it)' in out
    assert "username, service (values not shown)" in out and "no trailing newline" in out
    assert "Carbon's own, left alone: patch0000/" in out
    assert "token-never-shown" not in out + progress
    assert progress.index("✓ server.gw-1/health") < progress.index(
        "✓ server.gw-2/preflight  level 10 → 14") < progress.index("✓ server.gw-2/health")
    # the disaster chapter shows what makes the recovery possible: the post-change
    # snapshots, the replicated artifacts at dr, the rehearsal's RTO and its teardown
    assert re.search(r"gw-1-runtime: post-change snapshot \S+-post-\S+ \(after server.gw-1 "
                     r"changed: update level 14, patches patch0001, patch0002, 17 replicated", out)
    table = out[out.index("$ drydock backups artifacts"):]
    assert re.search(r"dr-vault +[0-9a-f]{12} +update +WSO2-CARBON-UPDATE-4.9.0-0014.zip +\d+ +"
                     r"level 14 +gw-1-runtime, gw-2-runtime", table)
    assert re.search(r"dr-vault +[0-9a-f]{12} +pack +wso2am-4.2.0.zip", table)
    assert re.search(r"drill.site-dr: passed; RTO [\d.]+s against the 1h target \(within\); "
                     r"torn down: yes", out)
    assert "the scratch roots under .rehearsal are gone" in out
    # the primary site's servers are lost in the disaster; the recovered ones are stopped
    assert "stopped the recovered servers: gw-1, gw-2" in out
    ports = yaml.safe_load((copy / "ports.local.yaml").read_text())["vars"]
    for port in ports.values():
        assert http_get(f"http://127.0.0.1:{port}/services/Version") == (None, "")
