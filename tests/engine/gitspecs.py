"""Test helpers: real git repositories holding minimal spec folders, and the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

DRYDOCK = Path(sys.executable).parent / "drydock"
NOW = "2026-03-01T10:00:00Z"


def spec_data(**overrides: Any) -> dict[str, Any]:
    """A small environment: one SQLite-only world plus a server that is only planned."""
    data: dict[str, Any] = {
        "environment": "shop",
        "vars": {"world": ".drydock/world"},
        "state": {"backend": "local", "path": ".drydock/state/shop.json"},
        "sites": {"primary": {}},
        "hosts": {"node-a": {"site": "primary", "root": "{{ world }}/primary"}},
        "products": {"wso2am-4.2.0": {"pack": "{{ world }}/packs/wso2am-4.2.0.zip",
                                      "updates": "{{ world }}/updates",
                                      "patches": "{{ world }}/patches"}},
        "servers": {"gw-1": {"host": "node-a", "product": "wso2am-4.2.0", "home": "opt/gw-1",
                             "update_level": 14,
                             "patches": ["WSO2-CARBON-PATCH-4.9.0-0001"]}},
        "databases": {"app_db": {"engine": "sqlite", "path": "{{ world }}/app.db"},
                      "old_db": {"engine": "sqlite", "path": "{{ world }}/old.db"}},
    }
    data.update(overrides)
    return data


def db_only(**overrides: Any) -> dict[str, Any]:
    """An environment of SQLite databases only: plans and applies with no product homes."""
    data = spec_data(**overrides)
    for key in ("hosts", "products", "servers"):
        data.pop(key)
    data.update(overrides)
    return data


def write_spec(folder: Path, data: dict[str, Any], name: str = "environment.yaml") -> Path:
    """Write `data` as the folder's spec file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def seed_sqlite(spec: Path, *names: str) -> None:
    """Create the SQLite files `.drydock/world/<name>.db` an environment declares.

    The git workflow is the subject of these tests, not database creation, so the
    databases exist before the first apply, which then only records them.
    """
    import sqlite3

    world = spec / ".drydock" / "world"
    world.mkdir(parents=True, exist_ok=True)
    for name in names:
        con = sqlite3.connect(world / f"{name}.db")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)")
            con.commit()
        finally:
            con.close()


def make_repo(root: Path, *, gitignore: str = ".drydock/\n") -> Any:
    """A fresh repository on branch main with an author configured and a .gitignore."""
    import git

    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test Operator")
        cfg.set_value("user", "email", "ops@example.com")
        cfg.set_value("commit", "gpgsign", "false")
    if gitignore:
        (root / ".gitignore").write_text(gitignore, encoding="utf-8")
    return repo


def commit_all(repo: Any, message: str) -> str:
    """Stage everything (respecting .gitignore) and commit; returns the commit sha."""
    repo.git.add("-A")
    repo.index.commit(message)
    return repo.head.commit.hexsha


def run_drydock(args: list[str], cwd: Path, *, now: str = NOW) -> subprocess.CompletedProcess:
    """Run the installed `drydock` as a real process, the way CI does."""
    env = {**os.environ, "DRYDOCK_NOW": now, "COLUMNS": "200"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return subprocess.run([str(DRYDOCK), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
