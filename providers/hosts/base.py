"""The host transport interface: run a command, put a file, get a file, and file facts.

Everything above it (product layouts, backups) is written against this interface, so a
remote transport can replace the local one without changes there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CommandResult:
    """Exit code and captured output of a command."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0


class Transport(ABC):
    """How drydock reaches a host. Paths are absolute paths on that host."""

    @abstractmethod
    def run(self, argv: Sequence[str], *, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 600) -> CommandResult:
        """Run a command from an argument list (never through a shell)."""

    @abstractmethod
    def put_file(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        """Write a file atomically (temp file, fsync, rename), creating parent folders."""

    @abstractmethod
    def get_file(self, path: Path) -> bytes:
        """Read a whole (small) file."""
