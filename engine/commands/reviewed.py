"""Lock → plan → review → apply → report: the one path of every changing command.

`run_planned` takes the state lock, reads the state, lets the operation make its plan,
shows it, asks for approval, applies it through the walker and the journal (one state
write per run) and returns what happened; `report` prints the outcome.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

import typer

from engine.apply import ApplyResult
from engine.clock import now as clock_now
from engine.commands.common import confirm, fail, print_json, print_text
from engine.commands.progress import apply_progress
from engine.contracts.models import Plan
from engine.operations.plan_apply import apply_plan
from engine.render.text import render_text
from engine.workspace import Workspace
from state.document import StateDocument

MakePlan = Callable[[StateDocument, datetime], Plan]
Show = Callable[[Plan, StateDocument], None]


def show_text(made: Plan, _doc: StateDocument) -> None:
    """Print the plan as text (the default review)."""
    print_text(render_text(made))


def show_on_stderr(made: Plan, _doc: StateDocument) -> None:
    """Print the plan as text on stderr (the review when stdout carries JSON)."""
    print(render_text(made), file=sys.stderr, end="")


def run_planned(ws: Workspace, what: str, make: MakePlan, *, auto_approve: bool,
                show: Show | None = show_text, when: datetime | None = None,
                parallelism: int = 10, hint: str = "", quiet: bool = False,
                skip_empty: bool = False) -> tuple[Plan, ApplyResult | None, StateDocument]:
    """Under the state lock: read the state, `make(doc, when)` the plan, `show` it (None:
    not shown), ask unless `auto_approve`, apply it. `quiet` drops the per-action progress
    lines; `skip_empty` applies nothing (result None) when the plan changes nothing.
    Returns the plan, the result and the stored state."""
    when = when or clock_now()
    with ws.state.lock(what):
        doc = ws.state.read()
        made = make(doc, when)
        if skip_empty and not made.summary.has_changes and not made.records:
            if show is not None:
                show(made, doc)
            return made, None, doc
        result, stored = apply_reviewed(ws, made, doc, auto_approve=auto_approve, what=what,
                                        show=show, when=when, parallelism=parallelism,
                                        hint=hint, quiet=quiet)
    return made, result, stored


def apply_reviewed(ws: Workspace, made: Plan, doc: StateDocument, *, auto_approve: bool,
                   what: str, show: Show | None = show_text, when: datetime | None = None,
                   parallelism: int = 10, hint: str = "", quiet: bool = False,
                   ) -> tuple[ApplyResult, StateDocument]:
    """Show `made` (unless `show` is None), ask unless `auto_approve`, apply it under the
    caller's lock. Returns the result and the stored state."""
    if show is not None:
        show(made, doc)
    if made.actions and not auto_approve and not confirm(len(made.actions), what, hint=hint):
        fail(f"{what} cancelled; nothing was changed")
    if quiet:
        return apply_plan(ws, made, when or made.created_at, doc=doc, parallelism=parallelism)
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
