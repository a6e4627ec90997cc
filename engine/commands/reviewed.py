"""Show a plan, ask for approval, apply it and report: the tail of every changing command."""

from __future__ import annotations

import sys
from datetime import datetime

import typer

from engine.apply import ApplyResult
from engine.commands.common import confirm, fail, print_json, print_text
from engine.commands.progress import apply_progress
from engine.contracts.models import Plan
from engine.operations.plan_apply import apply_plan
from engine.render.text import render_text
from engine.workspace import Workspace
from state.document import StateDocument


def apply_reviewed(ws: Workspace, made: Plan, doc: StateDocument, *, auto_approve: bool,
                   what: str, show: bool = True, when: datetime | None = None,
                   parallelism: int = 10, hint: str = "") -> tuple[ApplyResult, StateDocument]:
    """Show `made` (unless `show` is False), ask unless `auto_approve`, apply it under the
    caller's lock. Returns the result and the stored state."""
    if show:
        print_text(render_text(made))
    if made.actions and not auto_approve and not confirm(len(made.actions), what, hint=hint):
        fail(f"{what} cancelled; nothing was changed")
    with apply_progress(len(made.actions)) as callbacks:
        return apply_plan(ws, made, when or made.created_at, doc=doc, callbacks=callbacks,
                          parallelism=parallelism)


def report(result: ApplyResult, stored: StateDocument, what: str, *,
           as_json: bool = False) -> None:
    """Print the outcome (one line, or JSON with every action's report); exit 1 with every
    error when something failed."""
    ok, failed, skipped = result.count("ok"), result.count("failed"), result.count("skipped")
    if as_json:
        print_json({"run_id": result.run_id, "ok": result.ok, "serial": stored.serial,
                    "counts": {"ok": ok, "failed": failed, "skipped": skipped},
                    "actions": [r.model_dump(mode="json") for r in result.reports]})
    else:
        print_text(f"{what} {'complete' if result.ok else 'FAILED'}: {ok} ok, {failed} "
                   f"failed, {skipped} skipped; state serial {stored.serial}.\n")
    if result.interrupted:
        print(f"error: {what.lower()} interrupted: the actions that were running finished and "
              "were recorded; nothing else was started. Run 'drydock plan' to see what is "
              "left.", file=sys.stderr)
    if not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)
