"""One entry of the command table (cheap to import: `engine/cli.py` holds the table
without importing typer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lazy:
    """One command: where it lives, the line `--help` shows, and lazy sub-commands."""

    target: str
    help: str
    sub: Mapping[str, Lazy] = field(default_factory=dict)
