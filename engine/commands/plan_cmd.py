"""`drydock plan`: the kept no-op plan when nothing it rested on has changed, else the
full plan (`engine/plan_memo`). This module imports typer and nothing of the models, so
the shortcut costs what its reads cost."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.args import EnvArg, Format, Replace

__all__ = ["plan"]


def plan(
    env: EnvArg = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Save the plan to FILE.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, markdown or json.")] = Format.text,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 2 when the plan has changes.")] = False,
    target: Annotated[list[str] | None, typer.Option(
        "--target", help="Only plan this address, kind or glob (repeatable), e.g. "
                         "server.gw-1 or 'server.gw-*'.")] = None,
    refresh: Annotated[bool, typer.Option(
        "--refresh/--no-refresh", help="Observe the world first (default) or trust the state.")
    ] = True,
    base: Annotated[str | None, typer.Option(
        "--base", help="First show what the spec changes since its merge-base with REF "
                       "(e.g. origin/main), for pull requests.")] = None,
    full_plan_url: Annotated[str | None, typer.Option(
        "--full-plan-url", help="Where the full plan is, named when a markdown plan is cut.")
    ] = None,
    refresh_only: Annotated[bool, typer.Option(
        "--refresh-only", help="Plan no change: only accept the drift found into the state "
                               "(applying it records what is there now).")] = False,
    replace: Replace = None,
) -> None:
    """Show what apply would do: changes, drift and the ordered actions.

    With --base, the spec diff of the branch comes first; in JSON it is the extra
    top-level key "spec_diff" (files saved with -o never carry it).

    A plan of servers that finds nothing to do is remembered in drydock's cache folder
    (DRYDOCK_CACHE_DIR, else ~/.cache/drydock) with every file and answer it rested on;
    the next plain plan re-reads the spec, re-stats those files and prints the same
    answer at once when nothing moved, else plans in full.

    Examples:
      drydock plan specs/demo
      drydock plan specs/demo -o plan.json && drydock apply plan.json
      drydock plan specs/prod --base origin/main --format markdown > comment.md
      drydock plan specs/prod --target 'server.gw-*'    (warns that targeting is on)
      drydock plan specs/prod --refresh-only -o accept.json && drydock apply accept.json
      drydock plan specs/prod --replace server.gw-1     (rebuild gw-1's home)
    """
    plain = (out is None and not target and refresh and base is None and full_plan_url is None
             and not refresh_only and not replace)
    if plain:
        from engine.plan_memo.replay import replayed

        kept = replayed(Path(env) if env else Path.cwd(), fmt.value)
        if kept is not None:
            sys.stdout.write(kept)
            sys.stdout.flush()
            return
    from engine.commands.core import plan_full

    plan_full(env, out, fmt, detailed_exitcode, target, refresh, base, full_plan_url,
              refresh_only, replace, memo=plain)
