"""`backups forget SERIES` without `--dry-run`: delete what retention no longer keeps.

The decision is the planned prune's (same rules, same reasons), shown per repository;
then, under the state lock, the `backup.prune` actions run through the repository
provider and the catalog in the state is updated. A forget that would break a copy or
drill guarantee is refused before anything is deleted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

import typer

from engine.commands.common import fail, print_json, print_text, workspace
from engine.commands.reviewed import run_planned
from engine.contracts.models import Plan
from engine.operations.forget import plan_forget_run
from engine.planners.forget import ForgetPlan, ForgetRefused
from engine.spec.keep import KeepPolicy
from state.document import StateDocument


def prune_series(series: str, *, env: str | None, keep: KeepPolicy | None,
                 zone: tzinfo | None, repositories: Sequence[str], auto_approve: bool,
                 as_json: bool, dry_run: bool = False, lock_timeout: float = 0.0) -> None:
    """Decide, show, confirm (unless `auto_approve`) and delete; report on stdout.
    With `dry_run` only decide and show (no lock, nothing deleted).

    Exits 1 with one line on a refusal or a failed deletion."""
    if dry_run:
        _dry_run(series, env=env, keep=keep, zone=zone, repositories=repositories,
                 as_json=as_json)
        return
    if as_json and not auto_approve:
        fail("--format json needs --auto-approve: the question would mix into the JSON; "
             "review with --dry-run first")
    ws = workspace(env, lock_timeout=lock_timeout)
    decided: list[ForgetPlan] = []

    def make(doc: StateDocument, when: datetime) -> Plan:
        try:
            found, made = plan_forget_run(ws, doc, series, keep=keep, zone=zone, now=when,
                                          repositories=repositories)
        except ForgetRefused as exc:
            fail(str(exc))
        decided.append(found)
        return made

    def show(_made: Plan, _doc: StateDocument) -> None:
        if not as_json:
            _show_text(decided[0])

    made, result, stored = run_planned(ws, f"forget {series}", make, auto_approve=auto_approve,
                                       show=show, quiet=True, skip_empty=True)
    deleted = [] if result is None else [
        {"repository": a.params["repository"], "id": d["id"]}
        for a in made.actions for d in a.params["deletes"]
        if next(r for r in result.reports if r.id == a.id).status == "ok"]
    if as_json:
        print_json({**_report(decided[0]), "dry_run": False, "deleted": deleted,
                    "ok": result is None or result.ok, "serial": stored.serial})
    elif result is None:
        print_text(f"nothing to forget: retention keeps every snapshot of {series}\n")
    if result is not None and not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)
    if result is not None and not as_json:
        print_text(f"forgot {len(deleted)} snapshot(s) of {series}; state serial "
                   f"{stored.serial}\n")


def _dry_run(series: str, *, env: str | None, keep: KeepPolicy | None, zone: tzinfo | None,
             repositories: Sequence[str], as_json: bool) -> None:
    from engine.clock import now as clock_now

    ws = workspace(env)
    try:
        found, _made = plan_forget_run(ws, ws.state.read(), series, keep=keep, zone=zone,
                                       now=clock_now(), repositories=repositories)
    except ForgetRefused as exc:
        fail(str(exc))
    if as_json:
        first = _report(found)["repositories"]
        print_json({**_report(found), "dry_run": True,
                    "keep": first[0]["keep"] if first else [],
                    "remove": first[0]["remove"] if first else []})
    else:
        _show_text(found)
    kept = sum(len(d.result.keep) for d in found.repositories)
    gone = sum(len(d.result.remove) for d in found.repositories)
    print(f"dry run: {kept} kept, {gone} would be removed, nothing was deleted",
          file=sys.stderr)


def _report(found: ForgetPlan) -> dict[str, Any]:
    from engine.commands.forget_render import forget_report

    return {"series": found.series, "repositories": [
        {"repository": d.repository, **forget_report(d.result).model_dump(mode="json")}
        for d in found.repositories]}


def _show_text(found: ForgetPlan) -> None:
    from rich.console import Console

    from engine.commands.forget_render import render_text

    console = Console(highlight=False)
    for decided in found.repositories:
        print_text(f"repository {decided.repository}:\n")
        render_text(decided.result, console)
