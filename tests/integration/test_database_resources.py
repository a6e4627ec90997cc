"""Database resources against the real PostgreSQL and MariaDB: create when missing, and a
clear one-line error when the server is down."""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.helpers.world import make_env

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop(engine: str, name: str) -> None:
    if engine == "postgres":
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{name}"'], capture_output=True, check=False)
    else:
        subprocess.run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e",
                        f"DROP DATABASE IF EXISTS `{name}`"], capture_output=True, check=False)


def exists(engine: str, name: str) -> bool:
    if engine == "postgres":
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
                              f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                             capture_output=True, text=True, check=True).stdout
    else:
        out = subprocess.run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-N", "-e",
                              f"SHOW DATABASES LIKE '{name}'"], capture_output=True, text=True,
                             check=True).stdout
    return bool(out.strip())


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_missing_database_is_created(tmp_path: Path, engine: str) -> None:
    name = f"dd_res_{uuid.uuid4().hex[:8]}"
    port = 5432 if engine == "postgres" else 3306
    env = make_env(tmp_path, {}, extra_yaml=(
        f"databases:\n  app: {{engine: {engine}, host: 127.0.0.1, port: {port}, "
        f"dbname: {name}}}\n"))
    try:
        plan = env.run("plan", ".", "--detailed-exitcode", check=2)
        assert "database.app" in plan.stdout and "does not exist yet" in plan.stdout
        env.run("apply", ".", "--auto-approve", check=0)
        assert exists(engine, name)
        env.run("plan", ".", "--detailed-exitcode", check=0)
    finally:
        drop(engine, name)


@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_database_down_is_one_clear_line(tmp_path: Path, engine: str) -> None:
    port = free_port()  # nothing listens there: a server that is down, for real
    env = make_env(tmp_path, {}, extra_yaml=(
        f"databases:\n  app: {{engine: {engine}, host: 127.0.0.1, port: {port}, "
        "dbname: nowhere}\n"))
    proc = env.run("plan", ".", check=1)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "database.app" in lines[0] and str(port) in lines[0]
    assert not (env.spec / "state").exists()
