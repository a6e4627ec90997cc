"""`drydock backups artifacts`: the packs, update packages and patch archives replicated
beside the server snapshots of each repository (content-addressed by sha256), as the
snapshots' manifests name them, with how many snapshots need each one."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from engine.commands.common import Format, guarded, print_json, print_text, require_format
from engine.commands.common import workspace as open_env
from engine.contracts.facts import SnapshotInfo

EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]
RepoOpt = Annotated[list[str] | None, typer.Option(
    "--repository", help="Only this repository (repeatable; default: every one declared).")]


def _what(ref: dict[str, Any]) -> str:
    if ref.get("kind") == "update" and "level" in ref:
        return f"level {ref['level']}"
    if ref.get("kind") == "patch":
        return str(ref.get("patch_id") or ref.get("patch_dir") or "")
    if ref.get("kind") == "pack" and "update_level" in ref:
        level = int(ref["update_level"])
        return f"installs level {level}" if level >= 0 else "base pack (no level)"
    return ""


def artifact_rows(snapshots: Iterable[SnapshotInfo]) -> list[dict[str, Any]]:
    """One row per (repository, digest) the snapshots name: kind, name, size, what it
    brings, and the series and count of snapshots naming it; by repository, kind, name."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for snap in snapshots:
        for ref in snap.facts.get("artifacts") or []:
            if not isinstance(ref, dict) or not isinstance(ref.get("sha256"), str):
                continue
            row = rows.setdefault((snap.repository, ref["sha256"]), {
                "repository": snap.repository, "sha256": ref["sha256"],
                "kind": ref.get("kind"), "name": ref.get("name"), "size": ref.get("size"),
                "brings": _what(ref), "series": [], "snapshots": 0})
            row["snapshots"] += 1
            if snap.series not in row["series"]:
                row["series"] = sorted([*row["series"], snap.series])
    order = {"pack": 0, "update": 1, "patch": 2}
    return sorted(rows.values(), key=lambda r: (r["repository"], order.get(r["kind"], 3),
                                                str(r["name"])))


@guarded
def artifacts(env: EnvOpt = None, repository: RepoOpt = None,
              fmt: Annotated[Format, typer.Option("--format")] = Format.text) -> None:
    """List the replicated artifacts each repository holds for its server snapshots: the
    digest, kind (pack, update, patch), file name, size, and which series need it. A
    rebuild from a snapshot installs from these, never from the spec's folders.

    Examples:
      drydock backups artifacts --env specs/demo
      drydock backups artifacts --repository dr-vault --format json
    """
    from engine.operations.restore import listings

    require_format(fmt, Format.text, Format.json)
    ws = open_env(env)
    found, unreadable = listings(ws, repository or sorted(ws.spec.env.repositories))
    for line in unreadable:
        print(f"warning: {line}", file=sys.stderr)
    rows = artifact_rows(s for snaps in found.values() for s in snaps)
    if fmt is Format.json:
        print_json({"artifacts": rows})
        return
    if not rows:
        print_text("No replicated artifacts: no server snapshot names any.\n")
        return
    from engine.render.columns import text_table

    print_text(text_table(
        ["repository", "sha256", "kind", "name", "size", "brings", "series (snapshots)"],
        [[r["repository"], r["sha256"][:12], r["kind"], r["name"], r["size"] or 0,
          r["brings"], f"{', '.join(r['series'])} ({r['snapshots']})"] for r in rows],
        right=frozenset({4})))
