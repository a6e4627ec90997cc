"""Drill runs as providers report them and the state records them (`drill.<name>` data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from engine.spec.durations import format_duration

KEEP_RUNS = 20


class CheckResult(BaseModel):
    """How one check of a drill run went."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str
    passed: bool
    detail: str = ""


class DrillRun(BaseModel):
    """One run of a drill: what it restored, how long it took, and what the checks said.

    `seconds` is the restore time measured against `rto_seconds`; `error` says why a run
    stopped before its checks (the snapshot was damaged, the scratch target was taken...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    snapshot: str
    repository: str
    started: AwareDatetime
    finished: AwareDatetime
    seconds: float
    rto_seconds: float
    within_rto: bool
    passed: bool
    checks: tuple[CheckResult, ...] = ()
    error: str | None = None
    torn_down: bool = True

    def reason(self) -> str:
        """Why the run failed, in one line ('' when it passed)."""
        if self.passed:
            return ""
        parts = [self.error] if self.error else []
        parts += [f"check {c.check} failed ({c.detail})" if c.detail else
                  f"check {c.check} failed" for c in self.checks if not c.passed]
        if not self.within_rto:
            parts.append(f"restore took {self.seconds:.3f}s, over the RTO of "
                         f"{format_duration_seconds(self.rto_seconds)}")
        if not self.torn_down:
            parts.append("the scratch target could not be removed")
        return "; ".join(parts) or "failed"


def format_duration_seconds(seconds: float) -> str:
    """`15m`, `0s`: a duration in seconds as the spec writes it."""
    from datetime import timedelta

    return format_duration(timedelta(seconds=seconds))


def drill_runs(data: Mapping[str, Any] | None) -> list[DrillRun]:
    """The runs recorded in a drill record's data, oldest first; unreadable ones skipped."""
    out = []
    for raw in (data or {}).get("runs", []) or []:
        try:
            out.append(DrillRun.model_validate(raw))
        except ValidationError:
            continue
    return out


def runs_to_keep(previous: list[DrillRun], new: DrillRun) -> list[DrillRun]:
    """The last KEEP_RUNS runs once `new` is added."""
    return [*previous, new][-KEEP_RUNS:]
