"""Keep a memo after a full plan that found nothing to do, when nothing else could change
that answer (see the package's docstring for what a memo rests on)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.contracts.witness import Witness
from engine.plan_memo.memo import Memo, blank
from engine.plan_memo.stamps import file_stamp, memo_key
from engine.plan_memo.store import forget_memo, memo_path, write_memo_bytes

if TYPE_CHECKING:
    from engine.contracts.models import Plan
    from engine.workspace import Workspace

UNMEMOIZED_SECTIONS = ("databases", "repositories", "backups", "drills", "recover")
"""Sections whose observation or planning reads more than the hosts' files (a database,
a repository, the clock): a spec that declares any of them is always planned in full."""


def watched_files(ws: Workspace) -> list[str]:
    """The local files a plan's answer rests on besides the spec: the state, its lock and
    the journal (an interrupted or running apply)."""
    from engine.workspace import state_location

    state = state_location(ws.spec)
    return [str(state), f"{state}.lock", str(ws.journal_path)]


def why_not(ws: Workspace, plan: Plan, witness: Witness) -> str | None:
    """Why this plan's answer cannot be kept, or None when it can."""
    if (plan.changes or plan.drift or plan.actions or plan.records or plan.warnings
            or plan.freshness):
        return "the plan has something to say"
    env = ws.spec.env
    if env.state.backend != "local":
        return "the state is not a local file"
    declared = [name for name in UNMEMOIZED_SECTIONS if getattr(env, name)]
    if declared:
        return f"the spec declares {', '.join(declared)}"
    if os.environ.get("DRYDOCK_NOW"):
        return "the clock is overridden (DRYDOCK_NOW)"
    if not witness.trusted:
        return witness.problems[0]
    return None


@dataclass(frozen=True)
class Pending:
    """What a memo is keyed by, taken before the plan reads anything, and the witness its
    refresh writes into."""

    directory: Path
    key: str
    files: dict[str, str]
    witness: Witness


def begin(ws: Workspace) -> Pending:
    """Stamp the code and the state files before the plan reads them: a file that changes
    while the plan runs then fails the next comparison instead of passing it."""
    directory = Path(ws.spec.directory)
    return Pending(directory, memo_key(directory),
                   {p: file_stamp(p) for p in watched_files(ws)}, Witness(time.time_ns()))


def capture(ws: Workspace, plan: Plan, pending: Pending, outputs: dict[str, str]) -> bool:
    """Save the memo of `plan` (rendered as `outputs`, format -> text) when it can be
    trusted later, else forget any older one. Returns whether one was saved."""
    path = memo_path(pending.directory)
    if why_not(ws, plan, pending.witness) is not None:
        forget_memo(path)
        return False
    created = plan.model_dump(mode="json")["created_at"]
    memo = Memo(
        key=pending.key, spec_digest=plan.spec_digest,
        templates=tuple(sorted(ws.spec.templates)), files=pending.files,
        git=plan.git.model_dump(mode="json"), reads=tuple(pending.witness.reads),
        outputs={fmt: blank(text, plan.id, created) for fmt, text in outputs.items()},
    )
    write_memo_bytes(path, memo.to_json())
    return True
