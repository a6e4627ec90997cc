"""The local transport: the host is this machine; commands run without a shell."""

from __future__ import annotations

import os
import subprocess  # noqa: TID251
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from providers.hosts.base import CommandResult, Transport


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LocalTransport(Transport):
    """Runs commands and touches files on the local machine."""

    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600) -> CommandResult:
        """Run `argv` with no shell; a missing program gives returncode 127."""
        full_env = {**os.environ, **(env or {})}
        try:
            proc = subprocess.run(
                list(argv), cwd=cwd, env=full_env, capture_output=True, text=True,
                timeout=timeout, check=False, stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            return CommandResult(tuple(argv), 127, "", str(exc))
        except subprocess.TimeoutExpired as exc:
            return CommandResult(tuple(argv), 124, str(exc.stdout or ""),
                                 f"timed out after {timeout:.0f}s")
        return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    def put_file(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        """Atomic write of a whole file."""
        atomic_write(path, data, mode=mode)

    def get_file(self, path: Path) -> bytes:
        """Read a whole file."""
        return path.read_bytes()


def transport_for(kind: str) -> Transport:
    """The transport named in a host spec; only `local` exists so far."""
    if kind == "local":
        return LocalTransport()
    raise ValueError(f"unknown transport {kind!r}")
