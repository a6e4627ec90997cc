"""Drill reports: each run kept as JSON beside the environment, on the controller."""

from __future__ import annotations

from pathlib import Path

from engine.contracts.drills import DrillRun
from safefs.atomicfile import write_atomic


def write_report(path: Path, run: DrillRun) -> None:
    """Keep the run as a JSON report (written atomically, 0600) beside the environment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, run.model_dump_json(indent=2).encode() + b"\n", mode=0o600)


def read_report(path: Path) -> DrillRun:
    """The run a report holds; ValueError when it is missing or unreadable."""
    try:
        return DrillRun.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"drill report {path} cannot be read ({exc.strerror}); the drill's "
                         "run did not finish") from exc
