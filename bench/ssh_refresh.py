"""Refresh of N product homes over ssh against the same homes read locally, as a ratio.

What it measures, until every refresh goes through a host's transport: the transport
work a refresh of those homes does, fanned out over `parallelism` threads like a real
refresh — warm: one `walk` per home (a stat of every file, nothing re-hashed); cold: the
walk plus `sha256` of every regular file, computed where the file is, one call per file
through the Transport interface, and once more with the ssh transport's batched
`sha256_many` (one command per home). The homes are real
carbon homes installed from a testkit pack; the ssh side is a real sshd on 127.0.0.1
(tests/helpers/sshd.py) that sees them only through its own mount namespace.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from engine.spec.infra import Host
from providers.hosts.base import Transport
from providers.hosts.factory import transport_for_host
from providers.hosts.local import LocalTransport
from testkit.builder import build_pack, install_home
from tests.helpers.sshd import running_sshd


def _warm(transport: Transport, home: PurePosixPath) -> int:
    return sum(1 for _ in transport.walk(home))


def _cold(transport: Transport, home: PurePosixPath) -> int:
    files = [rel for rel, st in transport.walk(home) if st.kind == "file"]
    for rel in files:
        transport.sha256(home / rel)
    return len(files)


def _cold_batched(transport: Transport, home: PurePosixPath) -> int:
    files = [home / rel for rel, st in transport.walk(home) if st.kind == "file"]
    many = getattr(transport, "sha256_many", None)
    if many is None:
        for path in files:
            transport.sha256(path)
    else:
        many(files)
    return len(files)


def _fan_out(transport: Transport, homes: list[PurePosixPath], step, parallelism: int):
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        counted = sum(pool.map(lambda home: step(transport, home), homes))
    return counted, time.perf_counter() - start


def run(homes: int = 50, parallelism: int = 8) -> list[dict]:
    """Rows: step, homes, entries, local seconds, ssh seconds, ssh/local."""
    root = Path(tempfile.mkdtemp(prefix="drydock-bench-ssh-"))
    pack = build_pack(root / "packs")
    with running_sshd(root / "sshd") as server:
        for i in range(homes):
            install_home(pack, server.backing / f"home-{i:03d}")
        names = [f"home-{i:03d}" for i in range(homes)]
        local = LocalTransport("local")
        ssh = transport_for_host("bench-ssh", Host(**server.host_spec()), root)
        rows = []
        try:
            ssh.stat(server.root)  # connect once, outside the timings
            for label, step in [("warm refresh: walk (stat every file)", _warm),
                                ("cold refresh: walk + sha256 of every file", _cold),
                                ("cold refresh, hashes batched (ssh: sha256_many)",
                                 _cold_batched)]:
                n, local_s = _fan_out(local, [PurePosixPath(server.backing / h) for h in names],
                                      step, parallelism)
                _, ssh_s = _fan_out(ssh, [server.root / h for h in names], step, parallelism)
                rows.append({"step": label, "homes": homes, "entries": n,
                             "local s": local_s, "ssh s": ssh_s,
                             "ssh/local": ssh_s / max(local_s, 1e-9),
                             "ssh conns": ssh.connections_made})
        finally:
            ssh.close()
    return rows
