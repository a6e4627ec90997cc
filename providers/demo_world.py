"""Build (or rebuild) the demo world on this machine: packs, patches, homes, a database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from engine.spec.loader import LoadedSpec
from providers.product.builder import build_world, install_home

SAMPLE_APIS = [
    ("PizzaShackAPI", "1.0.0", "/pizzashack", "admin"),
    ("WeatherAPI", "2.1.0", "/weather", "ops"),
    ("PaymentsAPI", "1.4.2", "/payments", "finance"),
]


def reset_world(spec: LoadedSpec) -> list[str]:
    """Remove the demo's world and state, then build them afresh; returns what was made.

    Only paths under the spec folder's `.drydock/` are ever removed.
    """
    scratch = spec.directory / ".drydock"
    world = spec.path(str(spec.env.vars.get("world", ".drydock/world")))
    for path in (scratch,):
        if path.exists():
            resolved = path.resolve()
            if spec.directory.resolve() not in resolved.parents:
                raise ValueError(f"refusing to remove {resolved}: outside {spec.directory}")
            shutil.rmtree(resolved)
    made = []
    paths = build_world(world)
    made.append(f"packs, {len(paths.update_files)} update packages and "
                f"{len(paths.patch_files)} patch archives under {world}")
    for name, server in spec.env.servers.items():
        host = spec.env.hosts[server.host]
        home = spec.path(host.root) / server.home
        if spec.env.hosts[server.host].site != "primary":
            continue
        install_home(paths.pack, home)
        made.append(f"product home of {name} at {home}")
    for name, db in spec.env.databases.items():
        if getattr(db, "engine", None) == "sqlite" and getattr(db, "site", None) == "primary":
            path = spec.path(db.path)  # type: ignore[union-attr]
            seed_sqlite(path)
            made.append(f"SQLite database {name} with {len(SAMPLE_APIS)} APIs at {path}")
    return made


def seed_sqlite(path: Path) -> None:
    """A small API Manager-like database with sample rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(
            "CREATE TABLE IF NOT EXISTS am_api (api_id INTEGER PRIMARY KEY, api_name TEXT, "
            "api_version TEXT, context TEXT, api_provider TEXT);"
            "CREATE TABLE IF NOT EXISTS am_subscriber (subscriber_id INTEGER PRIMARY KEY, "
            "user_id TEXT, email TEXT);"
        )
        con.executemany("INSERT INTO am_api (api_name, api_version, context, api_provider) "
                        "VALUES (?, ?, ?, ?)", SAMPLE_APIS)
        con.executemany("INSERT INTO am_subscriber (user_id, email) VALUES (?, ?)",
                        [("alice", "alice@example.com"), ("bob", "bob@example.com")])
        con.commit()
    finally:
        con.close()


def hand_edit(path: Path, old: str, new: str) -> None:
    """Simulate an operator editing a managed file by hand."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
