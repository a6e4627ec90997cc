"""Plan and apply through the real CLI on real product homes: staleness, locking,
failure compensation and crash recovery (DESIGN §6–7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from state.document import from_bytes
from testkit.builder import corrupt
from tests.helpers.world import DRYDOCK, Env, make_env, server_yaml, tree_digest

BLOCK_SCRIPT = """#!/usr/bin/env bash
# Waits until the release file exists (at most 120 s): lets a test hold an apply mid-way.
for _ in $(seq 1 1200); do
  [ -e "$(dirname "$0")/../release" ] && exit 0
  sleep 0.1
done
exit 1
"""

SERVICE = ("    service: {start: bin/block.sh, stop: bin/noop.sh}\n")


def add_block_scripts(home: Path) -> None:
    for name, text in (("block.sh", BLOCK_SCRIPT), ("noop.sh", "#!/usr/bin/env bash\nexit 0\n")):
        path = home / "bin" / name
        path.write_text(text)
        path.chmod(0o755)


def state_doc(env: Env):
    return from_bytes((env.spec / "state" / "t.json").read_bytes(), source="test")


def wait_for_lock_holder(env: Env, proc: subprocess.Popen, timeout: float = 60) -> dict:
    lock = env.spec / "state" / "t.json.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            info = json.loads(lock.read_text())
            if info.get("operation") == "apply" and info.get("pid") == proc.pid:
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("the first apply never took the lock")


def wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_saved_plan_is_refused_when_the_state_moved(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1]),
                              "gw-2": server_yaml("gw-2", offset=1)})
    env.run("apply", ".", "--auto-approve", check=0)
    (env.spec / "servers.yaml").write_text("servers:\n" + server_yaml("gw-1", patches=[1, 2])
                                           + server_yaml("gw-2", offset=1))
    env.run("plan", ".", "-o", "p.json", check=0)
    before = tree_digest(env.home("gw-1"))
    env.run("state", "rm", "server.gw-2", "--env", ".", check=0)
    serial = state_doc(env).serial
    proc = env.run("apply", "p.json", "--env", ".", check=1)
    assert "stale" in proc.stderr and "serial" in proc.stderr
    assert tree_digest(env.home("gw-1")) == before
    assert state_doc(env).serial == serial


def test_saved_plan_is_refused_when_the_spec_changed(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("plan", ".", "-o", "p.json", check=0)
    (env.spec / "templates" / "deployment.toml.j2").write_text("[server]\noffset = 9\n")
    proc = env.run("apply", "p.json", "--env", ".", check=1)
    assert "spec changed" in proc.stderr
    assert not (env.home("gw-1") / "repository/components/patches/patch0001").exists()


def test_saved_plan_applies_exactly(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("plan", ".", "-o", "p.json", check=0)
    env.run("apply", "p.json", "--env", ".", check=0)
    assert (env.home("gw-1") / "repository/components/patches/patch0001").is_dir()
    env.run("plan", ".", "--detailed-exitcode", check=0)


def test_second_apply_is_refused_naming_the_first(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", extra=SERVICE)})
    add_block_scripts(env.home("gw-1"))
    first = subprocess.Popen([*DRYDOCK, "apply", ".", "--auto-approve"], cwd=env.spec,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        holder = wait_for_lock_holder(env, first)
        second = env.run("apply", ".", "--auto-approve", check=1)
        errors = [ln for ln in second.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, second.stderr
        assert f"pid {first.pid}" in errors[0] and holder["host"] in errors[0]
    finally:
        (env.home("gw-1") / "release").touch()
        out, errs = first.communicate(timeout=120)
    assert first.returncode == 0, errs


def test_failed_patch_restores_exact_bytes_and_skips_dependents(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1, 2]),
                              "gw-2": server_yaml("gw-2", offset=1)})
    env.run("apply", ".", "--auto-approve", check=0)
    corrupt(env.world / "patches" / "WSO2-CARBON-PATCH-4.9.0-0003.zip")
    home = env.home("gw-1")
    (env.spec / "servers.yaml").write_text(
        "servers:\n" + server_yaml("gw-1", patches=[2, 3], offset=5)
        + server_yaml("gw-2", offset=2))
    before = {p: tree_digest(home / p) for p in ("repository/components/patches",
                                                  "repository/conf", "updates")}
    serial = state_doc(env).serial
    proc = env.run("apply", ".", "--auto-approve", check=1)
    after = {p: tree_digest(home / p) for p in before}
    assert after == before
    assert "WSO2-CARBON-PATCH-4.9.0-0003" in proc.stderr
    assert "skipped" in proc.stderr and "server.gw-1/config" in proc.stderr
    assert "compensate" in proc.stderr
    doc = state_doc(env)
    assert doc.serial == serial + 1
    assert doc.resources["server.gw-1"].attributes["patches"] == ["patch0001", "patch0002"]
    # the independent server went on
    assert "offset = 2" in (env.home("gw-2") / "repository/conf/deployment.toml").read_text()


def test_crashed_apply_leaves_intent_and_next_plan_refreshes(tmp_path: Path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=SERVICE)})
    add_block_scripts(env.home("gw-1"))
    first = subprocess.Popen([*DRYDOCK, "apply", ".", "--auto-approve"], cwd=env.spec,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lock_holder(env, first)
        wait_for_file(env.home("gw-1") / "repository/components/patches/patch0001")
        journal = env.spec / "state" / "t.json.journal"
        deadline = time.monotonic() + 60
        while "server.gw-1/start" not in (journal.read_text() if journal.exists() else ""):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    proc = env.run("plan", ".", "--no-refresh", check=0)
    assert "interrupted during server.gw-1/start" in proc.stdout
    # the lock died with its holder: a new apply can run
    (env.home("gw-1") / "release").touch()
    env.run("apply", ".", "--auto-approve", check=0)
    proc = env.run("plan", ".", "--detailed-exitcode", check=0)
    assert "interrupted" not in proc.stdout


@pytest.mark.parametrize("edit", ["truncate", "garbage"])
def test_corrupt_state_is_refused_naming_last_good(tmp_path: Path, edit: str) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("apply", ".", "--auto-approve", check=0)
    (env.spec / "servers.yaml").write_text("servers:\n" + server_yaml("gw-1", patches=[1, 2]))
    env.run("apply", ".", "--auto-approve", check=0)
    path = env.spec / "state" / "t.json"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if edit == "truncate" else data.replace(
        b"patch0002", b"patch0009"))
    proc = env.run("plan", ".", check=1)
    assert "corrupt" in proc.stderr and "rollback" in proc.stderr
    assert str(path.name) in proc.stderr


SIGINT_DEFAULT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execv(sys.argv[1], sys.argv[1:])")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_lets_running_actions_finish_and_records_them(tmp_path: Path,
                                                            stop: signal.Signals) -> None:
    group = SERVICE + "    rollout: {group: gateways, max_unavailable: 1}\n"
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=group),
                              "gw-2": server_yaml("gw-2", offset=1, extra=group)})
    for server in ("gw-1", "gw-2"):
        add_block_scripts(env.home(server))
    (env.home("gw-2") / "release").touch()  # gw-2 would start at once, after gw-1
    spec = env.spec
    # A shell's background job inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt: give the child the default a terminal's process has.
    first = subprocess.Popen([*DRYDOCK[:1], "-c", SIGINT_DEFAULT, *DRYDOCK, "apply", ".",
                              "--auto-approve"],
                             cwd=spec, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = spec / "state" / "t.json.journal"
    deadline = time.monotonic() + 60
    while "server.gw-1/start" not in (journal.read_text() if journal.exists() else ""):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    os.kill(first.pid, stop)  # what Ctrl-C sends, or a cancelled CI job
    (env.home("gw-1") / "release").touch()
    _out, errs = first.communicate(timeout=120)
    assert first.returncode == 1
    assert "interrupted" in errs and "skipped: apply interrupted" in errs
    doc = state_doc(env)
    assert doc.serial == 1
    assert doc.resources["server.gw-1"].attributes["patches"] == ["patch0001"]
    assert "server.gw-2" not in doc.resources  # never started: the next plan does it
    env.run("apply", ".", "--auto-approve", check=0)
    env.run("plan", ".", "--detailed-exitcode", check=0)
