"""`--replace server.X`: a server that matches its spec is rebuilt on request, with real
homes, real processes and real health checks: a fresh home from the pack at its level,
its patches and config applied again, its runtime data kept, the pre-change backup
taken; the plan shows it as a replacement "requested with --replace". Addresses that
cannot be replaced are refused in one line, with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.servers import (
    Estate,
    Gateway,
    home_at_level,
    level_pack,
    server_status,
)
from tests.helpers.world import make_env, server_yaml

IMPL = "repository/components/plugins/org.wso2.carbon.apimgt.impl_9.28.116.jar"
API = "repository/deployment/server/synapse-configs/default/api/Pizza.xml"


def _plan(estate: Estate, *args: str) -> dict:
    return json.loads(estate.run("plan", ".", "--format", "json", *args, check=0).stdout)


def test_an_unchanged_server_is_rebuilt_at_its_level_keeping_its_runtime_data(
        estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    assert estate.apply()[1].ok
    pristine = (home / IMPL).read_bytes()
    (home / IMPL).write_bytes(b"damaged by hand")  # a plugin nothing tracks
    (home / API).parent.mkdir(parents=True, exist_ok=True)
    (home / API).write_text("<api name='Pizza'/>\n")  # runtime data to keep
    assert _plan(estate)["changes"] == []
    taken = estate.world / "primary/.drydock/change-backups/gw-1"
    earlier = set(taken.iterdir())

    made = _plan(estate, "--replace", "server.gw-1")
    assert [(c["address"], c["action"], c["reason"]) for c in made["changes"]] == [
        ("server.gw-1", "replace", "requested with --replace")]
    steps = [a["type"] for a in made["actions"] if a["address"] == "server.gw-1"]
    assert steps == ["server.backup", "server.stop", "server.replace-pack",
                     *["server.update"] * 10, "server.patch.add", "server.config",
                     "server.start", "server.health"]
    swap = next(a for a in made["actions"] if a["type"] == "server.replace-pack")
    assert Path(swap["params"]["pack"]).name == "wso2am-4.2.0.zip"
    assert swap["params"]["keep_patches"] == []  # patches come again from their archives
    text = estate.run("plan", ".", "--replace", "server.gw-1", check=0).stdout
    assert "-/+ server.gw-1  (replace: requested with --replace)" in text
    assert "1 to replace" in text

    done = estate.run("apply", ".", "--replace", "server.gw-1", "--auto-approve",
                      "--allow-dirty", check=0)
    assert "Apply complete" in done.stdout
    assert (home / IMPL).read_bytes() == pristine
    assert (home / API).read_text() == "<api name='Pizza'/>\n"
    status = server_status(gw)
    assert status is not None and status["healthy"]
    assert (status["update_level"], status["patches"]) == (10, ["patch0001"])
    config = json.loads((home / "updates/config.json").read_text())
    assert config["username"] == "ops@example.com"  # the update client's account stays
    backups = sorted(set(taken.iterdir()) - earlier)  # the pre-change backup of the rebuild
    assert len(backups) == 1 and (backups[0] / "backup.json").is_file()
    previous = list(home.parent.glob("gw-1.previous-*"))
    assert len(previous) == 1 and (previous[0] / IMPL).read_bytes() == b"damaged by hand"
    assert estate.run("plan", ".", "--detailed-exitcode", check=0).returncode == 0


def test_a_server_with_an_updated_pack_of_its_level_is_rebuilt_from_that_pack(
        estate: Estate) -> None:
    level_pack(estate, 14)
    home = home_at_level(estate, "gw-1", 14)
    gw = Gateway("gw-1", level=14, patches=(2,), strategy="replace")
    estate.declare(gw)
    assert estate.apply()[1].ok
    (home / "repository/components/patches/patch0002").rename(home / "stray-patch")
    (home / "repository/components/patches/patch0002").mkdir()  # observed, but emptied
    made = _plan(estate, "--replace", "server.gw-1")
    steps = [a["type"] for a in made["actions"] if a["address"] == "server.gw-1"]
    assert steps == ["server.backup", "server.stop", "server.replace-pack",
                     "server.patch.add", "server.config", "server.start", "server.health"]
    swap = next(a for a in made["actions"] if a["type"] == "server.replace-pack")
    assert Path(swap["params"]["pack"]).name == "wso2am-4.2.0-level14.zip"
    estate.run("apply", ".", "--replace", "server.gw-1", "--auto-approve", "--allow-dirty",
               check=0)
    status = server_status(gw)
    assert status is not None and status["healthy"] and status["update_level"] == 14
    assert any((home / "repository/components/patches/patch0002").iterdir())


def test_what_cannot_be_replaced_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    extra = "databases:\n  apim_db: {engine: sqlite, path: \"{{ world }}/apim.db\"}\n"
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1")}, extra_yaml=extra)
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    state = env.spec / "state" / "t.json"
    before = state.read_bytes()
    for address, said in [
            ("server.gw-9", "--replace server.gw-9: no such resource in the spec or the "
                            "state; did you mean server.gw-1?"),
            ("database.apim_db", "--replace database.apim_db: only servers can be replaced"),
            ("server.gw-*", "--replace server.gw-*: name one resource as kind.name")]:
        for command in (("plan", "."), ("apply", ".", "--auto-approve", "--allow-dirty")):
            proc = env.run(*command, "--replace", address, check=1)
            errors = [ln for ln in proc.stderr.splitlines() if not ln.startswith("warning:")]
            assert len(errors) == 1 and errors[0].startswith(f"error: {said}"), proc.stderr
    outside = env.run("plan", ".", "--target", "database.apim_db", "--replace", "server.gw-1",
                      check=1)
    assert "not among the --target addresses" in outside.stderr
    assert state.read_bytes() == before
