"""Server scenarios end to end over ssh: the hosts are a real OpenSSH server in its own mount
namespace (tests/conftest.py `sshd`), so every file of a home and every service command
reaches them only through the SSH transport. The estate is built in the server's backing
folder (the host's root seen from outside); the tests assert on those files from outside
and on the servers' own HTTP answers."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from engine.apply import ApplyResult
from engine.spec.infra import Host as HostSpec
from providers.hosts.factory import transport_for_host
from providers.product.install import install_pack
from state.document import StateDocument, from_bytes
from tests.helpers.servers import (
    Estate,
    Gateway,
    T,
    home_at_level,
    make_estate,
    server_status,
    stop_home,
    tree,
)
from tests.helpers.sshd import SshServer, running_sshd

pytestmark = pytest.mark.integration

COUNTER = itertools.count()
CONF = "repository/conf/deployment.toml"
DATA = """\
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/vault-a"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/vault-b"}
backups:
  gw-1-runtime: {source: {server: gw-1}, every: 24h, keep: {last: 10},
                 repository: primary-vault, copies: [dr-vault]}
"""


START = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def at(hours: float) -> dict[str, str]:
    """The clock of a CLI run, `hours` after START (DRYDOCK_NOW)."""
    return {"DRYDOCK_NOW": (START + timedelta(hours=hours)).isoformat()}


def host_root(server: SshServer, backing: Path) -> str:
    """The root as the ssh host sees it of a folder under the server's backing folder."""
    return str(server.root / backing.relative_to(server.backing))


def set_hosts(estate: Estate, **hosts: dict[str, object]) -> None:
    """Replace the spec's hosts with `hosts`."""
    env = yaml.safe_load((estate.spec / "env.yaml").read_text())
    env["hosts"] = hosts
    (estate.spec / "env.yaml").write_text(yaml.safe_dump(env, sort_keys=False))


@pytest.fixture
def estate(sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Estate]:
    """A small estate whose node-a is the ssh host; every server is stopped afterwards."""
    monkeypatch.setenv("DRYDOCK_PYTHON", sys.executable)
    monkeypatch.setenv("DRYDOCK_STOP_TIMEOUT", "20")
    made = make_estate(sshd.backing / f"estate-{os.getpid()}-{next(COUNTER)}")
    (made.world / "primary").mkdir(parents=True, exist_ok=True)
    set_hosts(made, **{"node-a": sshd.host_spec(root=host_root(sshd, made.world / "primary"))})
    try:
        yield made
    finally:
        stop_over_ssh(sshd, made)


def stop_over_ssh(server: SshServer, estate: Estate, *homes: Path) -> None:
    """Stop the servers of `homes` (default: every home of the estate) where they run: the
    control script knows its server by the home's path as its host names it, so a home on
    the ssh host is stopped through ssh; the local host's (world/local) here."""
    transport = transport_for_host("node-a", HostSpec(**server.host_spec()), estate.spec)
    try:
        for home in homes or sorted(estate.world.glob("*/opt/*")):
            if not (home / "bin" / "api-manager.sh").is_file():
                continue
            if home.is_relative_to(estate.world / "local"):
                stop_home(home)
                continue
            script = server.root / home.relative_to(server.backing) / "bin" / "api-manager.sh"
            result = transport.run([str(script), "stop"], timeout=60)
            assert result.ok, result.stderr
    finally:
        transport.close()


def drydock(estate: Estate, *args: str, check: int,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process in the spec folder."""
    return estate.run(*args, env=env, check=check)


def state(estate: Estate) -> StateDocument:
    return from_bytes((estate.spec / "state" / "t.json").read_bytes(), source="test")


def failures(result: ApplyResult) -> list[str]:
    return [f"{r.id}: {r.message}" for r in result.reports if r.status == "failed"]


def test_a_config_change_is_written_on_the_ssh_host(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10)
    estate.declare(gw)
    assert estate.apply()[1].ok
    pid = server_status(gw)["pid"]
    template = estate.spec / "templates" / "deployment.toml.j2"
    template.write_text(template.read_text() + 'motd = "over ssh"\n')
    _made, result, doc = estate.apply()
    assert result.ok, failures(result)
    text = (home / CONF).read_text()
    assert f"http_port = {gw.port}" in text and 'motd = "over ssh"' in text
    status = server_status(gw)
    assert status is not None and status["healthy"] and status["pid"] != pid
    assert doc.resources["server.gw-1"].attributes[f"config:{CONF}"].startswith("sha256:")


def test_a_patch_is_added_over_ssh(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    assert estate.apply()[1].ok
    gw.patches = (1, 2)
    estate.declare(gw)
    _made, result, doc = estate.apply()
    assert result.ok, failures(result)
    assert (home / "repository/components/patches/patch0002").is_dir()
    assert server_status(gw)["patches"] == ["patch0001", "patch0002"]
    assert doc.resources["server.gw-1"].attributes["patches"] == ["patch0001", "patch0002"]


def test_the_update_level_is_raised_in_place_over_ssh(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10)
    estate.declare(gw)
    assert estate.apply()[1].ok
    gw.level = 12
    estate.declare(gw)
    _made, result, doc = estate.apply()
    assert result.ok, failures(result)
    config = json.loads((home / "updates/config.json").read_text())
    assert config["update-level"] == "12" and config["username"] == "ops@example.com"
    assert (home / "repository/components/lib/wso2-fixlib-u0012_1.0.0.jar").is_file()
    assert server_status(gw)["update_level"] == 12
    assert doc.resources["server.gw-1"].attributes["update_level"] == 12


def test_a_failed_health_check_restores_the_home_from_its_pre_change_backup(
        estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    assert estate.apply()[1].ok
    before = tree(home)
    estate.declare(Gateway("gw-1", port=gw.port, level=12, patches=(1,), fail=True))
    _made, result, doc = estate.apply()
    assert [r.id for r in result.reports if r.status == "failed"] == ["server.gw-1/health"]
    undo = [r for r in result.reports if r.compensation_of]
    assert [r.type for r in undo] == ["server.stop", "server.restore-backup", "server.start",
                                      "server.health"]
    assert all(r.status == "ok" for r in undo), failures(result)
    assert tree(home) == before
    status = server_status(gw)
    assert status is not None and status["update_level"] == 10 and status["healthy"]
    assert doc.resources["server.gw-1"].attributes["update_level"] == 10


def snapshot_ids(estate: Estate, series: str) -> list[str]:
    out = drydock(estate, "backups", "list", series, "--env", ".", "--format", "json",
                  "--rebuild", check=0).stdout
    return [s["id"] for s in sorted(json.loads(out)["snapshots"], key=lambda s: s["created"])]


def with_data(estate: Estate, extra: str) -> None:
    (estate.spec / "data.yaml").write_text(extra)


def test_a_server_path_backup_over_ssh_and_its_restore(estate: Estate) -> None:
    home = home_at_level(estate, "gw-1", 10)
    gw = Gateway("gw-1", level=10, patches=(1,))
    estate.declare(gw)
    with_data(estate, DATA)
    drydock(estate, "apply", ".", "--auto-approve", env=at(0), check=0)
    drydock(estate, "apply", ".", "--auto-approve", env=at(24), check=0)  # nightly backup
    good = (home / CONF).read_bytes()
    sid = snapshot_ids(estate, "gw-1-runtime")[-1]
    template = estate.spec / "templates" / "deployment.toml.j2"
    template.write_text(template.read_text() + "changed = true\n")
    drydock(estate, "apply", ".", "--auto-approve", env=at(25), check=0)
    assert (home / CONF).read_bytes() != good

    drydock(estate, "restore", sid, "--to", "server.gw-1", "--env", ".", "--auto-approve",
            env=at(26), check=0)
    assert (home / CONF).read_bytes() == good
    assert server_status(gw)["healthy"]
    backups = estate.world / "primary" / ".drydock" / "change-backups" / "gw-1"
    assert any((p / "backup.json").is_file() for p in backups.iterdir())


def test_a_drill_restores_into_a_directory_on_the_ssh_host(estate: Estate,
                                                         sshd: SshServer) -> None:
    home_at_level(estate, "gw-1", 10)
    estate.declare(Gateway("gw-1", level=10, service=False))
    scratch = host_root(sshd, estate.world / "primary")
    # Only a command run on the ssh host finds the home under the host's root: outside the
    # server's mount namespace that folder is empty.
    seen = [{"files": [CONF]},
            {"command": ["test", "-f", f"{scratch}/opt/gw-1/bin/api-manager.sh"]}]
    with_data(estate, DATA + "drills:\n  gw-1-drill:\n    backup: gw-1-runtime\n"
              "    from: dr-vault\n    every: 7d\n"
              "    into: {directory: scratch/gw-1, host: node-a}\n"
              f"    verify: {json.dumps(seen)}\n")
    drydock(estate, "apply", ".", "--auto-approve", check=0)
    [run] = state(estate).resources["drill.gw-1-drill"].data["runs"]
    assert run["passed"] is True, run
    assert not (estate.world / "primary" / "scratch" / "gw-1").exists()


RECOVER = """\
recover:
  dr:
    hosts: {node-a: node-b}
"""


def test_recover_the_site_onto_an_ssh_host(estate: Estate, sshd: SshServer) -> None:
    dr = estate.world / "dr"
    dr.mkdir()
    set_hosts(estate, **{
        "node-a": sshd.host_spec(root=host_root(sshd, estate.world / "primary")),
        "node-b": sshd.host_spec(site="dr", root=host_root(sshd, dr))})
    gw = Gateway("gw-1", level=4, patches=(1, 3))
    estate.declare(gw)
    home_at_level(estate, "gw-1", 2)
    with_data(estate, DATA + RECOVER)
    drydock(estate, "apply", ".", "--auto-approve", env=at(0), check=0)
    drydock(estate, "apply", ".", "--auto-approve", env=at(24), check=0)  # nightly backup
    before = tree(estate.home("gw-1"))
    stop_over_ssh(sshd, estate, estate.home("gw-1"))
    assert server_status(gw) is None
    shutil.rmtree(estate.world / "primary")
    shutil.rmtree(estate.world / "vault-a")
    shutil.rmtree(estate.spec / "state")

    proc = drydock(estate, "recover", "--site", "dr", "--auto-approve", "--format", "json",
                   env=at(25), check=0)
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["result"]["failed"] == 0
    rebuilt = dr / "opt" / "gw-1"
    assert tree(rebuilt) == before
    status = server_status(gw)
    assert status is not None and status["update_level"] == 4
    assert status["patches"] == ["patch0001", "patch0003"]


def test_an_ssh_host_that_is_down_fails_its_servers_alone(estate: Estate,
                                                          tmp_path: Path) -> None:
    """A second sshd of its own serves the plan, then stops: its port is closed when the
    saved plan is applied, while node-l (local) goes on."""
    local = estate.world / "local"
    install_pack(T, estate.world / "packs" / "wso2am-4.2.0.zip", local / "opt" / "gw-2")
    here = Gateway("gw-2", level=None)
    estate.declare(Gateway("gw-1", service=False), here)
    text = (estate.spec / "servers.yaml").read_text()
    head, tail = text.split("  gw-2:\n")
    (estate.spec / "servers.yaml").write_text(
        head + "  gw-2:\n" + tail.replace("host: node-a", "host: node-l", 1))
    with running_sshd(tmp_path / "gone") as gone:
        install_pack(T, estate.world / "packs" / "wso2am-4.2.0.zip", gone.backing / "opt/gw-1")
        set_hosts(estate, **{
            "node-a": gone.host_spec(connect_timeout="3s"),
            "node-l": {"site": "primary", "transport": "local", "root": str(local)}})
        drydock(estate, "plan", ".", "-o", "plan.json", check=0)
    proc = drydock(estate, "apply", "plan.json", "--auto-approve", check=1)
    status = server_status(here)
    assert status is not None and status["healthy"]
    assert 'hostname = "gw-2"' in (local / "opt/gw-2" / CONF).read_text()
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if "server.gw-1" in line and "skipped" not in line]
    assert errors and all(f"127.0.0.1:{gone.port}" in line and "node-a" in line
                          for line in errors), proc.stderr
    assert any("server.gw-1/config" in line and "skipped" in line for line in lines)
    assert not [line for line in lines if "server.gw-2" in line and "✗" in line], proc.stderr
    assert "gw-1" not in (gone.backing / "opt/gw-1" / CONF).read_text()
