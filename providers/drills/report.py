"""Drill reports: each run kept as JSON beside the environment, on the controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.contracts.drills import DrillRun, drill_runs, runs_to_keep
from engine.contracts.models import Action
from engine.contracts.provider import ActionFailed
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


def keep_run(action: Action, run: DrillRun) -> dict[str, Any]:
    """Write the run's report and return the drill record's data: its last runs with this
    one. Raises ActionFailed naming the action when the report cannot be written."""
    p = action.params
    try:
        write_report(Path(p["report"]), run)
    except OSError as exc:
        raise ActionFailed(f"{action.id}: cannot write the drill report {p['report']} "
                           f"({exc.strerror})") from exc
    runs = runs_to_keep(drill_runs({"runs": p.get("previous_runs", [])}), run)
    return {"runs": [r.model_dump(mode="json") for r in runs]}
