"""The plan/apply family of commands: validate, schema, plan, apply, show, graph, drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.clock import now as clock_now
from engine.commands.common import (
    Format,
    env_dir,
    err,
    fail,
    guarded,
    print_json,
    print_text,
    workspace,
)
from engine.commands.progress import apply_progress
from engine.model import Plan
from engine.operations import apply_plan, plan_workspace
from engine.render.graphs import render_dot, render_mermaid
from engine.render.markdown import render_markdown
from engine.render.text import render_text
from engine.spec.loader import load_spec
from engine.spec.models import Environment

EnvArg = Annotated[str | None, typer.Argument(help="Environment folder (default: current).")]


@guarded
def validate(env: EnvArg = None) -> None:
    """Check an environment's spec; every problem is printed as FILE:LINE:COL: message.

    Example: drydock validate specs/demo
    """
    spec = load_spec(env_dir(env))
    from engine.desired import build_desired

    build_desired(spec)
    n = len(spec.env.servers) + len(spec.env.databases) + len(spec.env.backups) + len(
        spec.env.drills)
    err.print(f"{spec.env.environment}: {len(spec.files)} file(s), {n} resources, valid.")


def schema() -> None:
    """Print the JSON Schema of the spec (for editors and CI linting).

    Example: drydock schema > drydock.schema.json
    """
    print_json(Environment.model_json_schema(by_alias=True))


def _render(plan: Plan, fmt: Format) -> None:
    if fmt is Format.json:
        print_json(plan)
    elif fmt is Format.markdown:
        print_text(render_markdown(plan))
    else:
        print_text(render_text(plan))


@guarded
def plan(
    env: EnvArg = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Save the plan to FILE.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, markdown or json.")] = Format.text,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 2 when the plan has changes.")] = False,
    target: Annotated[list[str] | None, typer.Option(
        "--target", help="Only plan this address (repeatable), e.g. server.gw-1.")] = None,
    refresh: Annotated[bool, typer.Option(
        "--refresh/--no-refresh", help="Observe the world first (default) or trust the state.")
    ] = True,
) -> None:
    """Show what apply would do: changes, drift and the ordered actions.

    Examples:
      drydock plan specs/demo
      drydock plan specs/demo -o plan.json && drydock apply plan.json
      drydock plan specs/prod --format markdown > comment.md
    """
    ws = workspace(env)
    made = plan_workspace(ws, clock_now(), do_refresh=refresh, targets=target or [])
    if out is not None:
        from providers.hosts.local import atomic_write

        atomic_write(out, made.model_dump_json(indent=2).encode() + b"\n")
        err.print(f"plan saved to {out}; apply it with: drydock apply {out}")
    _render(made, fmt)
    if detailed_exitcode and made.summary.has_changes:
        raise typer.Exit(2)


def _load_plan_file(path: Path) -> Plan:
    try:
        return Plan.model_validate_json(path.read_bytes())
    except OSError as exc:
        fail(f"{path}: cannot read the plan ({exc.strerror})")
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        fail(f"{path}: not a drydock plan ({first})")


def _confirm(made: Plan) -> bool:
    if not sys.stdin.isatty():
        fail("apply needs confirmation but there is no terminal; review the plan and "
             "re-run with --auto-approve, or apply a saved plan file")
    answer = typer.prompt(f"Apply these {made.summary.actions} actions? Only 'yes' is accepted")
    return answer.strip() == "yes"


@guarded
def apply(
    target: Annotated[str | None, typer.Argument(
        help="Environment folder or a saved plan file (default: current folder).")] = None,
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder when TARGET is a plan file saved elsewhere.")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
    parallelism: Annotated[int, typer.Option("--parallelism", min=1,
                                             help="Actions at once.")] = 10,
) -> None:
    """Perform a plan: exactly its actions, in dependency order, recording each step.

    Examples:
      drydock apply specs/demo                   (plan, show, ask, apply)
      drydock apply plan.json --env specs/demo   (apply a saved plan; refused when stale)
    """
    path = Path(target) if target else Path.cwd()
    saved = path.is_file()
    env_folder = env or (None if saved else str(path))
    if saved and env_folder is None:
        env_folder = str(Path.cwd())
    ws = workspace(env_folder)
    when = clock_now()
    with ws.state.lock("apply"):
        doc = ws.state.read()
        if saved:
            made = _load_plan_file(path)
        else:
            made = plan_workspace(ws, when, doc=doc)
            print_text(render_text(made))
            if not made.summary.has_changes and not made.records:
                return
            if made.summary.has_changes and not auto_approve and not _confirm(made):
                fail("apply cancelled; nothing was changed")
        with apply_progress(len(made.actions)) as callbacks:
            result, stored = apply_plan(ws, made, when, doc=doc, callbacks=callbacks,
                                        parallelism=parallelism)
    ok, failed, skipped = result.count("ok"), result.count("failed"), result.count("skipped")
    print_text(f"Apply {'complete' if result.ok else 'FAILED'}: {ok} ok, {failed} failed, "
               f"{skipped} skipped; state serial {stored.serial}.\n")
    if not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)


@guarded
def show(
    planfile: Annotated[Path, typer.Argument(help="A plan saved with plan -o.")],
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """Render a saved plan.

    Example: drydock show plan.json --format markdown
    """
    _render(_load_plan_file(planfile), fmt)


@guarded
def graph(
    env: EnvArg = None,
    fmt: Annotated[str, typer.Option("--format", help="dot or mermaid.")] = "dot",
) -> None:
    """Print the plan's action graph as Graphviz dot or Mermaid.

    Example: drydock graph specs/demo | dot -Tsvg > plan.svg
    """
    made = plan_workspace(workspace(env), clock_now())
    if fmt not in ("dot", "mermaid"):
        fail(f"unknown graph format {fmt!r}; use dot or mermaid")
    print_text(render_dot(made) if fmt == "dot" else render_mermaid(made))


@guarded
def drift(
    env: EnvArg = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """Report where the world moved away from the recorded state; exit 2 when it did.

    Example (nightly CI): drydock drift specs/prod --format json > drift.json
    """
    ws = workspace(env)
    when = clock_now()
    made = plan_workspace(ws, when)
    from engine.render.drift import drift_report, render_drift_markdown

    report = drift_report(made, when)
    if fmt is Format.json:
        print_json(report)
    elif fmt is Format.markdown:
        print_text(render_drift_markdown(report))
    else:
        from engine.render.text import render_drift_text

        print_text(render_drift_text(list(made.drift), made.environment))
    if report.found:
        raise typer.Exit(2)


def dumps(obj: object) -> str:
    """JSON text (helper for tests)."""
    return json.dumps(obj, indent=2, default=str)
