"""Races through the real CLI: saved plans against a state that moved under them, two
applies of one plan at once, and a health check that hangs (bounded, one line)."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from tests.engine.test_apply_flow import SERVICE, add_block_scripts, state_doc, wait_for_lock_holder
from tests.helpers.world import DRYDOCK, make_env, server_yaml, tree_digest


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


def test_of_two_plans_saved_from_one_state_only_the_first_applies(tmp_path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1])})
    env.run("plan", ".", "-o", "first.json", check=0)
    env.run("plan", ".", "-o", "second.json", check=0)
    env.run("apply", "first.json", "--env", ".", check=0)
    before, serial = tree_digest(env.home("gw-1")), state_doc(env).serial
    proc = env.run("apply", "second.json", "--env", ".", check=1)
    [error] = _errors(proc)
    assert "is stale" in error and f"the state is now at serial {serial}" in error
    assert tree_digest(env.home("gw-1")) == before and state_doc(env).serial == serial


def test_a_plan_saved_while_an_apply_runs_is_refused_once_that_apply_is_done(tmp_path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=SERVICE)})
    add_block_scripts(env.home("gw-1"))
    first = subprocess.Popen([*DRYDOCK, "apply", ".", "--auto-approve"], cwd=env.spec,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lock_holder(env, first)
        env.run("plan", ".", "-o", "during.json", check=0)  # plans read; they take no lock
    finally:
        (env.home("gw-1") / "release").touch()
        _out, errs = first.communicate(timeout=120)
    assert first.returncode == 0, errs
    serial = state_doc(env).serial
    proc = env.run("apply", "during.json", "--env", ".", check=1)
    [error] = _errors(proc)
    assert "is stale" in error and state_doc(env).serial == serial


def test_one_saved_plan_applied_twice_at_once_applies_once(tmp_path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=SERVICE)})
    add_block_scripts(env.home("gw-1"))
    env.run("plan", ".", "-o", "p.json", check=0)
    start = state_doc(env).serial if (env.spec / "state" / "t.json").exists() else 0
    procs = [subprocess.Popen([*DRYDOCK, "apply", "p.json", "--env", "."], cwd=env.spec,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        info = wait_for_lock_holder_any(env, procs)
        holder = next(p for p in procs if p.pid == info["pid"])
        loser = next(p for p in procs if p is not holder)
        _out, loser_err = loser.communicate(timeout=120)
    finally:
        (env.home("gw-1") / "release").touch()
        _out, holder_err = holder.communicate(timeout=120)
    assert holder.returncode == 0, holder_err
    assert loser.returncode == 1
    [error] = [line for line in loser_err.splitlines() if line.startswith("error:")]
    assert f"pid {holder.pid}" in error
    assert state_doc(env).serial > start
    env.run("plan", ".", "--detailed-exitcode", check=0)


def wait_for_lock_holder_any(env, procs) -> dict:
    """The lock record once one of `procs` holds the state lock for an apply."""
    lock = env.spec / "state" / "t.json.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            info = json.loads(lock.read_text())
            if info.get("operation") == "apply" and info.get("pid") in {p.pid for p in procs}:
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("no apply took the lock")


HUNG_COMMAND = ("    service:\n      start: bin/noop.sh\n      stop: bin/noop.sh\n"
                "      health: {command: sleep 3600, timeout: 2s}\n")


def test_a_health_command_that_hangs_fails_the_server_in_one_line(tmp_path) -> None:
    env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=HUNG_COMMAND)})
    add_block_scripts(env.home("gw-1"))
    proc = env.run("apply", ".", "--auto-approve", check=1)
    [error] = _errors(proc)
    assert error == ("error: gw-1 is not healthy after 2s: health command exited 124 (rolling "
                     "back, server.health failed the same way)")
    assert state_doc(env).serial >= 1  # recorded; its checksum holds


def test_a_health_url_that_accepts_and_never_answers_fails_in_one_line(tmp_path) -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:  # never accepts
        port = silent.getsockname()[1]
        hung = ("    service:\n      start: bin/noop.sh\n      stop: bin/noop.sh\n"
                f"      health: {{http: 'http://127.0.0.1:{port}/services/Version', "
                "timeout: 2s}\n")
        env = make_env(tmp_path, {"gw-1": server_yaml("gw-1", patches=[1], extra=hung)})
        add_block_scripts(env.home("gw-1"))
        proc = env.run("apply", ".", "--auto-approve", check=1)
    [error] = _errors(proc)
    assert "gw-1 is not healthy after 2s" in error and "did not answer" in error
