"""`drydock backups ls|diff|stats|check`: what snapshots hold and whether repositories are
whole, as restic's `ls`, `diff`, `stats` and `check`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from engine.commands.common import (
    Format,
    fail,
    guarded,
    print_json,
    print_text,
    require_format,
    workspace,
)
from engine.contracts.facts import SnapshotInfo
from engine.workspace import Workspace

EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]
FormatOpt = Annotated[Format, typer.Option("--format", help="text or json.")]
RepoOpt = Annotated[list[str] | None, typer.Option(
    "--repository", help="Only this repository (repeatable; default: every one declared).")]


def _find(ws: Workspace, ref_text: str) -> SnapshotInfo:
    """The snapshot `ID`, `SERIES/ID` or `REPOSITORY:SERIES/ID` names."""
    from engine.operations.restore import listings
    from engine.planners.restore.common import parse_snapshot_ref
    from engine.planners.restore.snapshot import find_snapshot

    ref = parse_snapshot_ref(ref_text)
    names = [ref.repository] if ref.repository else sorted(ws.spec.env.repositories)
    found, unreadable = listings(ws, names)
    for line in unreadable:
        print(f"warning: {line}", file=sys.stderr)
    policy = ws.spec.env.backups.get(ref.series or "")
    return find_snapshot(ref, found, [policy.repository, *policy.copies] if policy else [])


@guarded
def ls(
    snapshot: Annotated[str, typer.Argument(help="ID, SERIES/ID or REPOSITORY:SERIES/ID.")],
    env: EnvOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """List what a snapshot holds: its parts and every path of a paths snapshot.

    Examples:
      drydock backups ls 20261125T020000Z-3f9a1c --env specs/prod
      drydock backups ls dr-vault:gw-1-runtime/20261125T020000Z-3f9a1c --format json
    """
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    contents = ws.registry.snapshot_contents(ws.spec, _find(ws, snapshot))
    if fmt is Format.json:
        print_json(contents)
        return
    snap = contents.snapshot
    lines = [f"snapshot {snap.label} ({snap.kind} {snap.address}, taken "
             f"{snap.created.isoformat()})"]
    lines += [f"part {p.name} ({p.kind}): {p.size} bytes stored, {p.raw_size} raw"
              for p in contents.parts]
    for e in contents.entries:
        shown = f"{e.path}/" if e.type == "dir" else (
            f"{e.path} -> {e.target}" if e.type == "symlink" else e.path)
        lines.append(f"{e.mode} {e.size:>12}  {shown}")
    print_text("\n".join(lines) + "\n")


@guarded
def diff(
    first: Annotated[str, typer.Argument(help="The older snapshot (ID, SERIES/ID, …).")],
    second: Annotated[str, typer.Argument(help="The newer snapshot.")],
    env: EnvOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Show what changed between two snapshots: + added, - removed, M modified, T type,
    U mode or link target; and source facts (update level, patches).

    Example: drydock backups diff 20261124T020000Z-aa11bb 20261125T020000Z-3f9a1c
    """
    from engine.snapshot_diff import diff_snapshots, render_diff_text

    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    a, b = _find(ws, first), _find(ws, second)
    found = diff_snapshots(ws.registry.snapshot_contents(ws.spec, a),
                           ws.registry.snapshot_contents(ws.spec, b))
    if fmt is Format.json:
        print_json(found)
    else:
        print_text(render_diff_text(found))


@guarded
def stats(env: EnvOpt = None, repository: RepoOpt = None,
          fmt: FormatOpt = Format.text) -> None:
    """Count snapshots and bytes (stored and before compression) per repository and series.

    Example: drydock backups stats --env specs/prod --format json
    """
    from engine.operations.restore import listings
    from engine.snapshot_stats import render_stats_text, snapshot_stats

    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    names = _repositories(ws, repository)
    found, unreadable = listings(ws, names)
    report = snapshot_stats(found, unreadable)
    if fmt is Format.json:
        print_json(report)
    else:
        print_text(render_stats_text(report))


@guarded
def check(
    env: EnvOpt = None,
    repository: RepoOpt = None,
    read_data: Annotated[bool, typer.Option(
        "--read-data", help="Re-hash every part (reads everything; default: sizes only).")
    ] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Check whole repositories: every manifest (and its signature), every part, and
    folders or objects no manifest accounts for. Exit 1 when anything is wrong.

    Examples:
      drydock backups check --env specs/prod
      drydock backups check --repository dr-vault --read-data --format json
    """
    from engine.commands.progress import status

    require_format(fmt, Format.text, Format.json)
    ws = workspace(env)
    results = []
    for name in _repositories(ws, repository):
        with status(f"checking repository {name}" + (" (reading all data)" if read_data
                                                     else "")):
            results.append(ws.registry.check_repository(ws.spec, name, read_data=read_data))
    ok = all(r.ok for r in results)
    if fmt is Format.json:
        print_json({"ok": ok, "repositories": [r.model_dump(mode="json") | {"ok": r.ok}
                                               for r in results]})
    else:
        lines = []
        for r in results:
            lines.append(f"repository {r.repository}: {r.snapshots} snapshot(s), {r.parts} "
                         f"part(s)" + (f", {r.bytes_read} bytes read" if read_data else "")
                         + (": no errors" if r.ok else f": {len(r.problems)} problem(s)"))
            lines += [f"  {p.kind}: {p.where}: {p.problem}" for p in r.problems]
        print_text("\n".join(lines) + "\n")
    if not ok:
        raise typer.Exit(1)


def _repositories(ws: Workspace, asked: list[str] | None) -> list[str]:
    declared = sorted(ws.spec.env.repositories)
    for name in asked or []:
        if name not in declared:
            fail(f"--repository {name}: not declared in {ws.spec.directory} (repositories: "
                 f"{', '.join(declared) or 'none'})")
    return list(asked or declared)
