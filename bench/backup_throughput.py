"""Paths backup/restore throughput of drydock next to ``tar`` + ``zstd -3`` on the same tree.

Builds (once, cached) a mixed tree: many small text files, medium files, a few large
semi-compressible and incompressible binaries. Then times drydock's paths backup into a
local repository and the restore out of it, and ``tar -I 'zstd -3' -cf`` / ``tar -I zstd
-xf`` on the same data, and prints MiB/s for each and the ratio drydock / tar.

    python -m bench.backup_throughput --size 64M
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from providers.backup_sources import backup_paths, restore_paths
from providers.hosts.local import LocalTransport
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

TREE_VERSION = 1
MIB = 1 << 20
_UNITS = {"K": 1 << 10, "M": MIB, "G": 1 << 30}
_WORDS = (
    "server conf deployment toml carbon axis2 synapse gateway apim token oauth2 key store "
    "trust jdbc datasource pool timeout retry endpoint handler mediator sequence proxy "
    "tenant user role claim scope throttle policy analytics publisher devportal admin "
    "true false 0 1 8243 9443 localhost wso2 org apache commons log4j2 appender level INFO"
).split()


def parse_size(text: str) -> int:
    """Parse ``64M``, ``1G``, ``500K`` or plain bytes into a byte count."""
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in _UNITS:
        return int(float(text[:-1]) * _UNITS[text[-1]])
    return int(text)


def _text_pool(rng: random.Random, size: int) -> bytes:
    lines = []
    total = 0
    while total < size:
        line = " ".join(rng.choices(_WORDS, k=rng.randint(4, 14))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()


def _semi(rng: random.Random, pool: bytes, size: int) -> bytes:
    """About half random 4 KiB blocks, half text blocks: compresses roughly 2:1."""
    out = bytearray()
    while len(out) < size:
        if rng.random() < 0.5:
            out += rng.randbytes(4096)
        else:
            start = rng.randrange(0, len(pool) - 4096)
            out += pool[start:start + 4096]
    return bytes(out[:size])


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def build_tree(base: Path, size: int) -> Path:
    """Create (or reuse) the benchmark tree of about `size` bytes; returns its root.

    The root holds one declared path, ``data``. A ``.complete`` marker makes reuse safe.
    """
    root = base / f"tree-v{TREE_VERSION}-{size}"
    if (root / ".complete").exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(size)
    pool = _text_pool(rng, 8 * MIB)
    data = root / "data"
    budget = {"small": size * 15 // 100, "medium": size * 35 // 100,
              "large": size * 30 // 100, "random": size * 20 // 100}
    made = 0
    while made < budget["small"]:
        length = rng.randint(512, 16 * 1024)
        start = rng.randrange(0, len(pool) - length)
        name = data / "conf" / f"d{made % 97:02d}" / f"file-{made}.xml"
        _write(name, f"<!-- {name.name} -->\n".encode() + pool[start:start + length])
        made += length
    made = 0
    while made < budget["medium"]:
        length = rng.randint(256 * 1024, 4 * MIB)
        _write(data / "lib" / f"component-{made}.jar", _semi(rng, pool, length))
        made += length
    for index in range(3):
        _write(data / "archives" / f"big-{index}.bin", _semi(rng, pool, budget["large"] // 3))
    for index in range(2):
        _write(data / "keys" / f"random-{index}.bin", rng.randbytes(budget["random"] // 2))
    (root / ".complete").write_text("ok\n")
    return root


def _tree_bytes(path: Path) -> tuple[int, int]:
    files = total = 0
    for entry in path.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            files += 1
            total += entry.stat().st_size
    return files, total


def _warm(path: Path) -> None:
    for entry in path.rglob("*"):
        if entry.is_file():
            with entry.open("rb") as handle:
                while handle.read(MIB):
                    pass


def _timed(func: Callable[[], object]) -> float:
    """Seconds `func` takes, after flushing earlier writes so they are not billed to it."""
    os.sync()
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _one_round(tree: Path, cache: Path, files: int, raw: int) -> dict[str, float]:
    """Back up and restore once with drydock and once with tar + zstd; returns seconds."""
    with tempfile.TemporaryDirectory(prefix="run-", dir=cache) as scratch_name:
        scratch = Path(scratch_name)
        repo = LocalRepository("bench", scratch / "repo")
        snapshot_id = new_snapshot_id(datetime.now(UTC))
        fields = SnapshotFields(source=SnapshotSource(kind="paths", address="backup.bench"),
                                created=datetime.now(UTC))
        ours_backup = _timed(lambda: backup_paths(repo, "bench", snapshot_id, T, tree, ["data"],
                                                  fields))
        ours_restore = _timed(lambda: restore_paths(repo, "bench", snapshot_id, "paths.tar",
                                                    T, scratch / "ours"))
        if _tree_bytes(scratch / "ours" / "data") != (files, raw):
            raise SystemExit("drydock restore did not reproduce the tree")
        archive = scratch / "tar.tar.zst"
        tar_backup = _timed(lambda: subprocess.run(
            ["tar", "-I", "zstd -3", "-cf", str(archive), "-C", str(tree), "data"], check=True))
        (scratch / "theirs").mkdir()
        tar_restore = _timed(lambda: subprocess.run(
            ["tar", "-I", "zstd", "-xf", str(archive), "-C", str(scratch / "theirs")],
            check=True))
        return {
            "ours_backup": ours_backup, "ours_restore": ours_restore,
            "tar_backup": tar_backup, "tar_restore": tar_restore,
            "ours_stored": float(repo.get_manifest("bench", snapshot_id).size),
            "tar_stored": float(archive.stat().st_size),
        }


def _options(args: Sequence[str] | argparse.Namespace | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.backup_throughput", description=__doc__)
    parser.add_argument("--size", default="1G", help="tree size, e.g. 64M or 1G (default 1G)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each side this many times and keep the fastest")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "drydock-bench"),
                        help="where the generated tree is kept between runs")
    if isinstance(args, argparse.Namespace):
        defaults = parser.parse_args([])
        for key, value in vars(args).items():
            setattr(defaults, key, value)
        return defaults
    return parser.parse_args(list(args) if args is not None else None)


def run(args: Sequence[str] | argparse.Namespace | None = None) -> list[dict]:
    """Run the benchmark; returns one row per operation (backup, restore) with figures."""
    options = _options(args)
    size = parse_size(str(options.size))
    cache = Path(options.cache)
    tree = build_tree(cache, size)
    files, raw = _tree_bytes(tree / "data")
    _warm(tree / "data")
    mib = raw / MIB
    best: dict[str, float] = {}
    for _ in range(max(1, options.repeat)):
        for key, seconds in _one_round(tree, cache, files, raw).items():
            best[key] = min(seconds, best.get(key, seconds))
    ours_stored, tar_stored = int(best["ours_stored"]), int(best["tar_stored"])
    rows = []
    for name, ours, theirs, stored_ours, stored_tar in (
        ("paths backup", best["ours_backup"], best["tar_backup"], ours_stored, tar_stored),
        ("paths restore", best["ours_restore"], best["tar_restore"], ours_stored, tar_stored),
    ):
        rows.append({
            "benchmark": name,
            "files": files,
            "size_mib": round(mib, 1),
            "drydock_s": round(ours, 2),
            "drydock_mib_s": round(mib / ours, 1),
            "tar_zstd_s": round(theirs, 2),
            "tar_zstd_mib_s": round(mib / theirs, 1),
            "ratio": round(theirs / ours, 2),
            "drydock_stored_mib": round(stored_ours / MIB, 1),
            "tar_stored_mib": round(stored_tar / MIB, 1),
        })
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run and print a table (ratio = drydock speed / tar+zstd speed)."""
    rows = run(argv)
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


if __name__ == "__main__":
    main()
