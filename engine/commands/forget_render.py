"""How `backups forget` reports a retention decision: JSON models and text tables."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from engine.retention_models import RetentionResult

if TYPE_CHECKING:
    from rich.console import Console


class ForgetKept(BaseModel):
    """One kept snapshot in the JSON output."""

    id: str
    time: datetime
    reasons: list[str]


class ForgetRemoved(BaseModel):
    """One removed snapshot in the JSON output."""

    id: str
    time: datetime
    reason: str


class ForgetReport(BaseModel):
    """The JSON output: `{"keep": [{id, time, reasons}], "remove": [{id, time, reason}]}`."""

    keep: list[ForgetKept]
    remove: list[ForgetRemoved]


def forget_report(result: RetentionResult) -> ForgetReport:
    """The JSON document of a result: ids, times and reasons, newest first."""
    return ForgetReport(
        keep=[ForgetKept(id=k.id, time=k.time, reasons=k.reasons) for k in result.keep],
        remove=[ForgetRemoved(id=r.id, time=r.time, reason=r.reason) for r in result.remove],
    )


def render_text(result: RetentionResult, console: Console) -> None:
    """Print two tables: the kept snapshots with their reasons, then the removed ones
    with the rules that let each go."""
    from rich.table import Table

    kept = Table(title=f"keep: {len(result.keep)} snapshot(s)", title_justify="left")
    for column in ("snapshot", "time", "kept because"):
        kept.add_column(column, overflow="fold")
    for item in result.keep:
        kept.add_row(item.id, item.time.isoformat(), ", ".join(item.reasons))
    removed = Table(title=f"remove: {len(result.remove)} snapshot(s)", title_justify="left")
    for column in ("snapshot", "time", "removed because"):
        removed.add_column(column, overflow="fold")
    for gone in result.remove:
        removed.add_row(gone.id, gone.time.isoformat(), gone.reason)
    console.print(kept if result.keep else "keep: nothing")
    console.print(removed if result.remove else "remove: nothing")
