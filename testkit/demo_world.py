"""Build (or rebuild) the demo world on this machine: packs, patches, homes, a database.

The gateways' homes are built as they were before drydock took over: the product pack
brought to update level `START_LEVEL` with the update installer. Each server with a
service gets a free TCP port, written as `<server>_port` vars into `PORTS_FILE` in the
spec folder (a per-machine file, not part of the spec in git).
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from pathlib import Path

from engine.spec.loader import LoadedSpec
from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from providers.product.service import run_service_command
from providers.product.updates import install_level, package_path
from safefs.atomicfile import write_atomic
from testkit.builder import build_world, sign_in_update_client

START_LEVEL = 10
PORTS_FILE = "ports.local.yaml"

SAMPLE_APIS = [
    ("PizzaShackAPI", "1.0.0", "/pizzashack", "admin"),
    ("WeatherAPI", "2.1.0", "/weather", "ops"),
    ("PaymentsAPI", "1.4.2", "/payments", "finance"),
]


def reset_world(spec: LoadedSpec) -> list[str]:
    """Remove the demo's world and state, then build them afresh; returns what was made.

    Only paths under the spec folder's `.drydock/` are ever removed.
    """
    stop_servers(spec)
    scratch = spec.directory / ".drydock"
    world = spec.path(str(spec.env.vars.get("world", ".drydock/world")))
    for path in (scratch,):
        if path.exists():
            resolved = path.resolve()
            if spec.directory.resolve() not in resolved.parents:
                raise ValueError(f"refusing to remove {resolved}: outside {spec.directory}")
            shutil.rmtree(resolved)
    made = []
    transport = LocalTransport()
    paths = build_world(world)
    made.append(f"packs, {len(paths.update_files)} update packages and "
                f"{len(paths.patch_files)} patch archives under {world}")
    ports = write_ports(spec)
    if ports:
        made.append(f"free ports {', '.join(f'{k}={v}' for k, v in ports.items())} in "
                    f"{spec.directory / PORTS_FILE}")
    for name, server in spec.env.servers.items():
        host = spec.env.hosts[server.host]
        home = spec.path(host.root) / server.home
        if spec.env.hosts[server.host].site != "primary":
            continue
        install_pack(transport, paths.pack, home)
        sign_in_update_client(home)
        for level in range(1, START_LEVEL + 1):
            install_level(transport, home, package_path(paths.updates, paths.kernel, level),
                          level=level, pack=paths.pack)
        made.append(f"product home of {name} ({paths.product}-{paths.version} on Carbon "
                    f"kernel {paths.kernel}) at update level {START_LEVEL}, signed in to the "
                    f"update client, at {home}")
    for name, db in spec.env.databases.items():
        if getattr(db, "engine", None) == "sqlite" and getattr(db, "site", None) == "primary":
            path = spec.path(db.path)  # type: ignore[union-attr]
            seed_sqlite(path)
            made.append(f"SQLite database {name} with {len(SAMPLE_APIS)} APIs at {path}")
    return made


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_ports(spec: LoadedSpec) -> dict[str, int]:
    """Pick a free port for every server with a service; write them as vars to PORTS_FILE."""
    ports = {f"{name.replace('-', '_')}_port": _free_port()
             for name, server in spec.env.servers.items() if server.service is not None}
    lines = "".join(f"  {key}: {port}\n" for key, port in ports.items())
    write_atomic(spec.directory / PORTS_FILE,
                 ("# Free ports picked by `drydock demo` on this machine; rewritten every run.\n"
                  + (f"vars:\n{lines}" if ports else "vars: {}\n")).encode())
    return ports


def stop_servers(spec: LoadedSpec) -> list[str]:
    """Stop every demo server whose home exists (a stopped one is fine); returns their names.

    Raises ActionFailed when a server does not stop.
    """
    transport = LocalTransport()
    stopped = []
    for name, server in spec.env.servers.items():
        home = spec.path(spec.env.hosts[server.host].root) / server.home
        if server.service is None or not (home / "bin").is_dir():
            continue
        run_service_command(transport, home, server.service.stop, f"stopping {name}")
        stopped.append(name)
    return stopped


def stop_servers_under(spec: LoadedSpec, root: Path) -> list[str]:
    """Stop every demo server whose home under `root` exists; returns their names."""
    stopped = []
    for name, server in spec.env.servers.items():
        home = root / server.home
        if server.service is not None and (home / "bin").is_dir():
            run_service_command(LocalTransport(), home, server.service.stop, f"stopping {name}")
            stopped.append(name)
    return stopped


def count_rows(spec: LoadedSpec, database: str, sql: str) -> object:
    """The scalar `sql` answers in the declared `database` (the demo's data check)."""
    from providers.databases.engines import engine_for
    from providers.databases.targets import target_for

    target = target_for(spec, database)
    return engine_for(target.engine).query_scalar(target, sql)


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


def describe_home(home: Path) -> list[str]:
    """What the update client and Carbon keep in a home, said without any secret value:
    the level and the names of the other `updates/config.json` keys, `product.txt`, and
    Carbon's own patch folders and log."""
    config = json.loads((home / "updates" / "config.json").read_text(encoding="utf-8"))
    level = config.get("update-level")
    others = ", ".join(k for k in config if k != "update-level")
    product = (home / "updates" / "product.txt").read_bytes()
    newline = "" if product.endswith(b"\n") else " (no trailing newline)"
    patches = home / "repository" / "components" / "patches"
    base = patches / "patch0000"
    meta = sorted(p.name for p in (patches / ".metadata").glob("*.txt"))
    log = home / "repository" / "logs" / "patches.log"
    return [
        f"updates/config.json: update-level {json.dumps(level)} "
        f"({type(level).__name__}, as the update client writes it); its other keys kept: "
        f"{others or 'none'} (values not shown)",
        f"updates/product.txt: {product.decode()!r}{newline}",
        f"Carbon's own, left alone: patch0000/ ({len(list(base.glob('*.jar')))} original "
        f"jars), .metadata/ ({', '.join(meta) or 'empty'}), repository/logs/patches.log "
        f"({len(log.read_text(encoding='utf-8').splitlines()) if log.is_file() else 0} lines)",
    ]


def hand_edit(path: Path, old: str, new: str) -> None:
    """Simulate an operator editing a managed file by hand."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
