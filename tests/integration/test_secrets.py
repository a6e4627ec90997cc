"""Secrets are references: their values never reach plans, state, journal or output."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.helpers.world import make_env

pytestmark = pytest.mark.integration
SECRET = "s3cr3t-" + uuid.uuid4().hex


def test_password_value_is_never_written(tmp_path: Path) -> None:
    name = f"dd_sec_{uuid.uuid4().hex[:8]}"
    env = make_env(tmp_path, {}, extra_yaml=(
        "databases:\n"
        f"  app: {{engine: postgres, host: 127.0.0.1, port: 5432, user: postgres, "
        f"dbname: {name}, password: {{env: APP_DB_PASSWORD}}}}\n"
        "repositories:\n  v: {type: local, site: primary, path: vault}\n"
        "backups:\n  app: {source: {database: app}, every: 1h, repository: v}\n"))
    secret_env = {"APP_DB_PASSWORD": SECRET}
    try:
        outputs = []
        outputs.append(env.run("plan", ".", "-o", "p.json", "--format", "json",
                               env=secret_env, check=0))
        outputs.append(env.run("apply", "p.json", "--env", ".", env=secret_env, check=0))
        outputs.append(env.run("drift", ".", "--format", "json", env=secret_env))
        for proc in outputs:
            assert SECRET not in proc.stdout and SECRET not in proc.stderr
        for path in [env.spec / "p.json", *sorted((env.spec / "state").rglob("*"))]:
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
        for path in (env.spec / "vault").rglob("*"):
            if path.is_file() and path.suffix == ".json":
                assert SECRET.encode() not in path.read_bytes(), path
    finally:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{name}"'], capture_output=True, check=False)


def test_missing_secret_is_one_line_naming_it(tmp_path: Path) -> None:
    env = make_env(tmp_path, {}, extra_yaml=(
        "databases:\n"
        "  app: {engine: postgres, dbname: x, password: {env: DRYDOCK_TEST_UNSET_SECRET}}\n"))
    proc = env.run("plan", ".", check=1)
    assert "DRYDOCK_TEST_UNSET_SECRET" in proc.stderr
    assert proc.stderr.count("\n") == 1
