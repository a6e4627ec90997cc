"""The plan/apply family of commands: schema, plan, apply, show, graph, drift."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Annotated

import typer

from engine.clock import now as clock_now
from engine.commands.args import EnvArg, Replace
from engine.commands.common import (
    Format,
    LockTimeout,
    err,
    fail,
    guarded,
    print_json,
    print_text,
    workspace,
)
from engine.commands.progress import refresh_progress
from engine.contracts.models import Plan
from engine.operations.plan_apply import plan_workspace
from engine.render.text import render_text

if TYPE_CHECKING:
    from engine.render.metrics import CommandRun
    from state.document import StateDocument



def schema(
    kind: Annotated[str, typer.Option(
        "--kind", help="spec (one spec file), plan (a saved plan) or state (the state "
                       "document).")] = "spec",
) -> None:
    """Print a JSON Schema (2020-12): of a spec file (for editors and CI linting), or of
    the plan and state documents.

    Examples:
      drydock schema > drydock.schema.json
        (then atop each spec file: # yaml-language-server: $schema=drydock.schema.json)
      drydock schema --kind plan > plan.schema.json
    """
    from engine.render.schemas import SCHEMA_IDS, schema_of

    if kind not in SCHEMA_IDS:
        fail(f"unknown schema kind {kind!r}; use spec, plan or state")
    print_json(schema_of(kind))  # type: ignore[arg-type]


def _render(plan: Plan, fmt: Format) -> None:
    if fmt is Format.json:
        print_json(plan)
    elif fmt is Format.markdown:
        from engine.render.markdown import render_markdown

        print_text(render_markdown(plan))
    else:
        print_text(render_text(plan))


@guarded
def plan_full(env: str | None, out: Path | None, fmt: Format, detailed_exitcode: bool,
              target: list[str] | None, refresh: bool, base: str | None,
              full_plan_url: str | None, refresh_only: bool, replace: list[str] | None,
              memo: bool = False) -> None:
    """`drydock plan` in full (see `engine/commands/plan_cmd.py`); `memo`: keep the plan
    as the no-op memo when it finds nothing to do and nothing else could change that."""
    from engine.gitinfo import GitError, spec_diff_against
    from engine.specdiff import render_spec_diff_text

    if refresh_only and replace:
        fail("--replace plans a change; --refresh-only plans none: use one of them")
    ws = workspace(env)
    pending = None
    if memo:
        from engine.plan_memo.capture import begin

        pending = begin(ws)
    try:
        changed = spec_diff_against(ws.spec.directory, ws.spec.env, base) if base else None
    except GitError as exc:
        fail(str(exc))
    with refresh_progress() as observed:
        made = plan_workspace(ws, clock_now(), do_refresh=refresh, targets=target or [],
                              on_observed=observed, refresh_only=refresh_only,
                              replace=replace or [],
                              witness=pending.witness if pending else None)
    if out is not None:
        from safefs.atomicfile import write_atomic

        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, made.model_dump_json(indent=2).encode() + b"\n", mode=0o600)
        err.print(f"plan saved to {out}; apply it with: drydock apply {out}")
    if fmt is Format.markdown:
        from engine.render.markdown import render_markdown

        hint = full_plan_url or (f"in {out} (`drydock show {out}`)" if out else "")
        print_text(render_markdown(made, spec_diff=changed, full_plan_hint=hint))
    elif changed is None:
        _render(made, fmt)
    elif fmt is Format.json:
        print_json({**made.model_dump(mode="json"), "spec_diff": changed.model_dump(mode="json")})
    else:
        print_text(render_spec_diff_text(changed) + render_text(made))
    if pending is not None:
        from engine.plan_memo.capture import capture

        capture(ws, made, pending, _outputs(made))
    if detailed_exitcode and (made.summary.has_changes or (refresh_only and made.records)):
        raise typer.Exit(2)


def _outputs(made: Plan) -> dict[str, str]:
    """The plan exactly as `plan` prints it in each format (no --base, no --out)."""
    from engine.render.markdown import render_markdown

    return {"text": render_text(made), "json": made.model_dump_json(indent=2) + "\n",
            "markdown": render_markdown(made, spec_diff=None, full_plan_hint="")}


def _load_plan_file(path: Path) -> Plan:
    try:
        return Plan.model_validate_json(path.read_bytes())
    except OSError as exc:
        fail(f"{path}: cannot read the plan ({exc.strerror})")
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        fail(f"{path}: not a drydock plan ({first})")


@guarded
def apply(
    target: Annotated[str | None, typer.Argument(
        help="Environment folder or a saved plan file (default: current folder).")] = None,
    env: Annotated[str | None, typer.Option(
        "--env", help="Environment folder when TARGET is a plan file saved elsewhere.")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
    parallelism: Annotated[int, typer.Option("--parallelism", min=1,
                                             help="Actions at once.")] = 10,
    allow_dirty: Annotated[bool, typer.Option(
        "--allow-dirty", help="Apply even though the spec folder has uncommitted changes.")
    ] = False,
    fmt: Annotated[Format, typer.Option(
        "--format", help="text, or json: the plan goes to stderr and the result of every "
                         "action to stdout.")] = Format.text,
    only: Annotated[list[str] | None, typer.Option(
        "--target", help="Only plan and apply this address or glob (repeatable).")] = None,
    refresh_only: Annotated[bool, typer.Option(
        "--refresh-only", help="Plan no change: only accept the drift found into the state "
                               "(applying it records what is there now).")] = False,
    lock_timeout: LockTimeout = 0.0,
    replace: Replace = None,
) -> None:
    """Perform a plan: exactly its actions, in dependency order, recording each step.

    Specs in git must be committed (the state records the commit) unless --allow-dirty.

    Examples:
      drydock apply specs/demo                   (plan, show, ask, apply)
      drydock apply plan.json --env specs/demo   (apply a saved plan; refused when stale)
      drydock apply plan.json --env specs/prod --format json > apply-result.json
      drydock apply specs/prod --replace server.gw-1   (rebuild gw-1's home, asking first)
    """
    from engine.commands.reviewed import report, run_planned
    from engine.gitinfo import DirtySpecError, GitError, recorded_git, require_committed

    path = Path(target) if target else Path.cwd()
    saved = path.is_file()
    if saved and only:
        fail(f"--target goes with planning; {path} is a saved plan, which already holds "
             "only what it was planned for")
    if saved and refresh_only:
        fail(f"--refresh-only goes with planning; apply {path} as it was planned")
    if saved and replace:
        fail(f"--replace goes with planning; {path} is a saved plan: plan with --replace "
             "and apply that plan")
    if refresh_only and replace:
        fail("--replace plans a change; --refresh-only plans none: use one of them")
    env_folder = env or (None if saved else str(path))
    if saved and env_folder is None:
        env_folder = str(Path.cwd())
    ws = workspace(env_folder, lock_timeout=lock_timeout)
    try:
        warning = require_committed(ws.spec.directory, allow_dirty=allow_dirty)
    except (DirtySpecError, GitError) as exc:
        fail(str(exc))
    if warning:
        print(warning, file=sys.stderr)
    def make(doc: StateDocument, when: datetime) -> Plan:
        if saved:
            made = _load_plan_file(path)
            if made.git.dirty and not allow_dirty:
                fail(f"{path}: plan {made.id} was made from uncommitted specs; plan again "
                     "from a commit, or pass --allow-dirty to apply it anyway")
            return made.model_copy(update={"git": recorded_git(made.git, ws.spec.directory)})
        with refresh_progress() as observed:
            return plan_workspace(ws, when, doc=doc, targets=only or [],
                                  on_observed=observed, refresh_only=refresh_only,
                                  replace=replace or [])

    def review(made: Plan, _doc: StateDocument) -> None:
        if saved:
            return
        if fmt is Format.json:
            print(render_text(made), file=sys.stderr, end="")
        else:
            print_text(render_text(made))

    _made, result, stored = run_planned(
        ws, "apply", make, auto_approve=auto_approve or saved, show=review,
        parallelism=parallelism, hint=", or apply a saved plan file", skip_empty=not saved)
    if result is None:
        return
    report(result, stored, "Apply", as_json=fmt is Format.json)


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
    env: Annotated[str | None, typer.Argument(
        help="Environment folder (default: current), or a plan saved with plan -o.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="dot, mermaid or json.")] = "dot",
) -> None:
    """Print the plan's action graph as Graphviz dot, Mermaid or JSON (nodes and edges).

    A saved plan is drawn as it is, without planning again.

    Examples:
      drydock graph specs/demo | dot -Tsvg > plan.svg
      drydock graph plan.json --format mermaid
    """
    from engine.render.graphs import graph_document, render_dot, render_mermaid

    if fmt not in ("dot", "mermaid", "json"):
        fail(f"unknown graph format {fmt!r}; use dot, mermaid or json")
    saved = env is not None and Path(env).is_file()
    made = _load_plan_file(Path(env)) if saved and env else plan_workspace(workspace(env),
                                                                           clock_now())
    if fmt == "json":
        print_json(graph_document(made))
    else:
        print_text(render_dot(made) if fmt == "dot" else render_mermaid(made))


@guarded
def drift(
    env: EnvArg = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="Also save the JSON report to PATH.")] = None,
    metrics_file: Annotated[Path | None, typer.Option(
        "--metrics-file", help="Also write Prometheus metrics to PATH (atomically), e.g. "
                               "for node_exporter's textfile collector.")] = None,
    schema: Annotated[bool, typer.Option(
        "--schema", help="Print the JSON Schema of the --format json report and exit.")
    ] = False,
) -> None:
    """Report where the world moved away from the recorded state; exit 2 when it did.

    Examples (nightly CI):
      drydock drift specs/prod --format json > drift.json
      drydock drift specs/prod --format markdown -o drift.json \\
          --metrics-file /var/lib/node_exporter/textfile/drydock_prod.prom
    """
    from engine.render.drift import (
        drift_report,
        drift_report_schema,
        render_drift_markdown,
        render_findings_text,
    )

    if schema:
        print_json(drift_report_schema())
        return
    from engine.drills_status import drill_statuses

    started = monotonic()
    ws = workspace(env)
    when = clock_now()
    doc = ws.state.read()
    with refresh_progress() as observed:
        made = plan_workspace(ws, when, doc=doc, on_observed=observed)
    found = drift_report(made, when, drills=drill_statuses(doc, ws.spec, when))
    if out is not None or metrics_file is not None:
        from engine.render.metrics import render_metrics
        from safefs.atomicfile import write_atomic

        for path in (p for p in (out, metrics_file) if p is not None):
            path.parent.mkdir(parents=True, exist_ok=True)
        if out is not None:
            write_atomic(out, found.model_dump_json(indent=2).encode() + b"\n")
        if metrics_file is not None:
            write_atomic(metrics_file, render_metrics(found, _runs(doc, when, started)).encode())
    if fmt is Format.json:
        print_json(found)
    elif fmt is Format.markdown:
        print_text(render_drift_markdown(found))
    else:
        from engine.render.text import render_drift_text

        print_text(render_drift_text(list(made.drift), made.environment)
                   + render_findings_text(found))
    if found.found:
        raise typer.Exit(2)


def _runs(doc: StateDocument, when: datetime, started: float) -> list[CommandRun]:
    """This drift run (it got this far: a success) and the last apply the state records."""
    from engine.planners.restore.last_good import succeeded
    from engine.render.metrics import CommandRun

    runs = [CommandRun(command="drift", finished=when, success=True,
                       duration_seconds=round(monotonic() - started, 3))]
    applied = doc.applied
    if applied is not None and re.match(r"^\d+ ok, \d+ failed, \d+ skipped$", applied.summary):
        runs.append(CommandRun(command="apply", finished=applied.when,
                               success=succeeded(applied.summary)))
    return runs


def dumps(obj: object) -> str:
    """JSON text (helper for tests)."""
    return json.dumps(obj, indent=2, default=str)
