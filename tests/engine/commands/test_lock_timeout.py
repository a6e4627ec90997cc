"""`--lock-timeout` on every command that takes the state lock: with the lock held by
another process, the command says once that it waits and for whom, then proceeds as soon
as the holder lets go; a holder that keeps it past the timeout makes it fail in one line
naming the holder, having changed nothing."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.world import DRYDOCK, Env, make_env, seed_apis, server_yaml

pytestmark = [pytest.mark.xdist_group("lock-timeout"), pytest.mark.slow(25)]
"""The tests share one applied world (a module fixture): one worker runs both."""

SAFETY_NET = 120.0
"""Upper bound for a child's line to arrive; a safety net, not a timing assumption."""

EXTRA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
  apim_db_dr: {engine: sqlite, path: "{{ world }}/dr/apim.db", site: dr}
repositories:
  vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 5}, repository: vault,
            copies: [dr-vault]}
recover:
  dr: {databases: {apim_db: apim_db_dr}, repositories: [dr-vault]}
"""

HOLDER = """\
import sys
from pathlib import Path
from state.lock import LocalLock
lock = LocalLock(Path(sys.argv[1]))
info = lock.acquire("apply")
print(info.pid, flush=True)
sys.stdin.readline()
lock.release(info)
"""


@dataclass
class World:
    """An applied environment with one server, a database and one snapshot of it."""

    env: Env
    snapshot: str

    @property
    def state(self) -> Path:
        return self.env.spec / "state" / "t.json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("locks")
    env = make_env(root, {"gw-1": server_yaml("gw-1")}, extra_yaml=EXTRA)
    seed_apis(env.world / "primary" / "apim.db")
    env.run("apply", ".", "--auto-approve", "--allow-dirty", check=0)
    listed = json.loads(env.run("backups", "list", "--env", ".", "--format", "json",
                                check=0).stdout)
    return World(env=env, snapshot=listed["snapshots"][0]["id"])


class Lines:
    """The lines a child writes on one pipe, read without buffering ahead, so waiting for
    the next line never misses one already read."""

    def __init__(self, proc: subprocess.Popen[bytes], fd: int, what: str) -> None:
        self.proc, self.fd, self.what, self.buffer = proc, fd, what, b""
        self.seen: list[str] = []

    def next(self) -> str:
        """The next line; fails the test if none comes."""
        deadline = time.monotonic() + SAFETY_NET
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], 1.0)
            chunk = os.read(self.fd, 65536) if ready else b""
            self.buffer += chunk
            if (ready and not chunk) or time.monotonic() > deadline:
                raise AssertionError(f"no line from {self.what}: {self.seen}")
        line, self.buffer = self.buffer.split(b"\n", 1)
        self.seen.append(line.decode())
        return self.seen[-1]


@contextmanager
def held(state: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The state lock held by another process (its pid); written to, it lets go."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        pid = int(Lines(proc, proc.stdout.fileno(), "the lock holder").next())
        yield proc, pid
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(SAFETY_NET)


def _commands(world: World) -> list[tuple[str, ...]]:
    """Every command that takes the lock (besides apply, import and state mv, tested
    where they are), each with arguments that get it past its checks."""
    snap = world.snapshot
    return [
        ("restore", snap, "--to", "database.apim_db", "--env", ".", "--auto-approve"),
        ("recover", "--site", "dr", "--env", ".", "--auto-approve"),
        ("backups", "forget", "apim-db", "--prune", "--env", ".", "--auto-approve"),
        ("backups", "verify", snap, "--env", "."),
        ("backups", "pin", snap, "--env", "."),
        ("backups", "unpin", snap, "--env", "."),
        ("backups", "list", "--rebuild", "--env", "."),
        ("state", "rollback", "1", "--env", "."),
        ("state", "migrate", "--to", "local:state/moved.json", "--env", "."),
        ("apply", ".", "--auto-approve", "--allow-dirty"),
        ("state", "rm", "server.gw-1", "--env", "."),
    ]


def test_each_command_waits_for_a_held_lock_and_proceeds_once_it_is_let_go(
        world: World) -> None:
    for args in _commands(world):
        with held(world.state) as (holder, pid):
            proc = subprocess.Popen([*DRYDOCK, *args, "--lock-timeout", "10m"],
                                    cwd=world.env.spec, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            try:
                assert proc.stderr is not None and holder.stdin is not None
                lines = Lines(proc, proc.stderr.fileno(), " ".join(args))
                first = lines.next()
                if first.startswith("warning: "):  # apply outside git says so first
                    first = lines.next()
                assert first.startswith("waiting up to 600s (--lock-timeout): state "), first
                assert f"is locked by apply (pid {pid} " in first, first
                holder.stdin.write(b"go\n")
                holder.stdin.flush()
                out, rest = proc.communicate(timeout=SAFETY_NET)
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert proc.returncode == 0, (args, out, lines.seen, rest)
            assert holder.wait(SAFETY_NET) == 0
    listed = world.env.run("state", "list", "--env", ".", check=0).stdout.split()
    assert "server.gw-1" not in listed  # the last state rm went through
    assert (world.env.spec / "state" / "moved.json").exists()


def test_a_lock_held_past_the_timeout_fails_the_command_in_one_line_naming_the_holder(
        world: World) -> None:
    """(Every command reaches the lock through the same wait as the test above shows;
    four kinds of them are enough to show the refusal.)"""
    before = world.state.read_bytes()
    with held(world.state) as (_holder, pid):
        procs = {args: subprocess.Popen([*DRYDOCK, *args, "--lock-timeout", "1s"],
                                        cwd=world.env.spec, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for args in _commands(world)
                 if args[:2] in {("restore", world.snapshot), ("recover", "--site"),
                                 ("backups", "forget"), ("state", "rm")}}
        assert len(procs) == 4
        for args, proc in procs.items():
            _out, err = proc.communicate(timeout=SAFETY_NET)
            *_warnings, waiting, error = err.splitlines()
            assert proc.returncode == 1, (args, err)
            assert waiting.startswith("waiting up to 1s (--lock-timeout): "), (args, err)
            assert error.startswith("error: state ") and f"locked by apply (pid {pid} " in error
            assert "still held after waiting 1s (--lock-timeout)" in error, (args, err)
    assert world.state.read_bytes() == before
