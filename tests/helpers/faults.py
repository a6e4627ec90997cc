"""Real faults for tests: a size-limited tmpfs (a disk that fills) and a closed port."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` (e.g. ``"8m"``) at `path` for the block; skips the test
    with the reason when this machine cannot mount (not root, no CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root; run the fault tests as root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the disk-full "
                    "tests need a machine or container that allows mount")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def closed_port() -> int:
    """A port nothing listens on: bound once by the OS, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
