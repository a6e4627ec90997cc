"""`drydock backups ...`: the snapshot catalog, verification and pins."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from engine.apply import ApplyResult
from engine.commands.common import (
    Format,
    LockTimeout,
    err,
    fail,
    guarded,
    print_json,
    print_text,
    require_format,
    workspace,
)
from engine.commands.reviewed import run_planned
from engine.contracts.catalog import CatalogEntry, SeriesCatalog
from engine.contracts.models import Plan
from engine.operations.catalog import (
    CatalogError,
    catalogs,
    find_series,
    plan_catalog_rebuild,
    plan_pin,
    plan_verify,
    read_catalogs,
)
from engine.retention import RetentionSnapshot
from engine.workspace import Workspace
from state.document import ResourceRecord, StateDocument

app = typer.Typer(help="Backup catalog, verification, pins and retention.",
                  no_args_is_help=True)
EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]


def listing(ws: Workspace, cats: dict[str, SeriesCatalog], doc: StateDocument,
            series: str | None) -> list[dict[str, Any]]:
    """One row per snapshot: where it is primarily, its copies, verified or not; oldest first."""
    rows = []
    for name, cat in sorted(cats.items()):
        if series is not None and name != series:
            continue
        policy = ws.spec.env.backups.get(name)
        verified = (doc.resources.get(f"backup.{name}") or _empty(name)).data.get("verified", {})
        by_id: dict[str, list[CatalogEntry]] = {}
        for entries in cat.repos.values():
            for e in entries:
                by_id.setdefault(e.id, []).append(e)
        for sid, entries in by_id.items():
            repos = sorted(e.repository for e in entries)
            home = policy.repository if policy and policy.repository in repos else repos[0]
            first = entries[0]
            rows.append({"id": sid, "series": name, "repository": home,
                         "created": first.created.isoformat(), "size": first.size,
                         "verified": sid in verified,
                         "copies": [r for r in repos if r != home]})
    rows.sort(key=lambda r: (datetime.fromisoformat(r["created"]), r["id"]))
    return rows


def _empty(name: str) -> ResourceRecord:
    return ResourceRecord(kind="backup", name=name)


@app.command("list")
@guarded
def list_(
    series: Annotated[str | None, typer.Argument(help="Only this series (backup policy).")] = None,
    env: EnvOpt = None,
    rebuild_: Annotated[bool, typer.Option(
        "--rebuild", help="Read the repositories instead of the state's cache, and re-cache.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """List snapshots, oldest first.

    Examples:
      drydock backups list --env specs/demo
      drydock backups list apim-db --rebuild --format json    (state lost: repositories only)
    """
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env, lock_timeout=lock_timeout)
    if rebuild_:
        cats, doc = _rebuild(ws)
    else:
        doc = ws.state.read()
        cats = catalogs(doc)
    rows = listing(ws, cats, doc, series)
    if fmt is Format.json:
        print_json({"snapshots": rows})
        return
    if not rows:
        print_text("No snapshots recorded. Try 'drydock backups list --rebuild' to read the "
                   "repositories.\n")
        return
    from engine.render.columns import text_table

    print_text(text_table(
        ["id", "series", "repository", "created", "size", "verified", "copies"],
        [[r["id"], r["series"], r["repository"], r["created"], r["size"],
          "yes" if r["verified"] else "no", ", ".join(r["copies"]) or "-"] for r in rows],
        right=frozenset({4})))


def _rebuild(ws: Workspace) -> tuple[dict[str, SeriesCatalog], StateDocument]:
    """Read every series' catalog from the repositories and record them all in one run;
    with an unreadable state, list from the repositories alone and record nothing."""
    from state.errors import StateError

    try:
        ws.state.read()
    except StateError as exc:
        err.print(f"warning: {exc}; listing from the repositories alone")
        from state.document import new_document

        return read_catalogs(ws), new_document(ws.spec.env.environment)
    cats: dict[str, SeriesCatalog] = {}

    def make(doc: StateDocument, when: datetime) -> Plan:
        cats.update(read_catalogs(ws))
        return plan_catalog_rebuild(ws, doc, cats, when)

    _plan, result, stored = run_planned(ws, "catalog rebuild", make, auto_approve=True,
                                        show=None, quiet=True)
    assert result is not None
    _fail_on(result)
    return cats, stored


def _fail_on(result: ApplyResult) -> None:
    """Exit 1 with each failed action's message."""
    if not result.ok:
        for r in result.reports:
            if r.status == "failed":
                print(f"error: {r.message}", file=sys.stderr)
        raise typer.Exit(1)


@app.command()
@guarded
def verify(
    snapshot: Annotated[str, typer.Argument(help="Snapshot id.")],
    env: EnvOpt = None,
    repository: Annotated[str | None, typer.Option(
        "--repository", help="Only the copy in this repository.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Re-hash every part of a snapshot in every repository holding it; exit 1 if damaged.

    Examples:
      drydock backups verify 20261125T020000Z-3f9a1c --env specs/prod
      drydock backups verify 20261125T020000Z-3f9a1c --format json
    """
    require_format(fmt, Format.text, Format.json)
    ws = workspace(env, lock_timeout=lock_timeout)
    series, repos = find_series(read_catalogs(ws), snapshot)
    if repository is not None:
        if repository not in repos:
            fail(f"snapshot {snapshot} is not in repository {repository}")
        repos = [repository]
    made, result, _stored = run_planned(
        ws, f"verify {snapshot}", lambda doc, when: plan_verify(ws, doc, series, snapshot,
                                                                repos, when),
        auto_approve=True, show=None, quiet=True)
    assert result is not None
    by_id = {r.id: r for r in result.reports}
    results = [{"repository": a.params["repository"], "ok": by_id[a.id].status == "ok",
                "message": by_id[a.id].message} for a in made.actions]
    if fmt is Format.json:
        print_json({"snapshot": snapshot, "series": series, "results": results})
    else:
        print_text("".join(f"{r['message']}\n" for r in results if r["ok"]))
    damaged = [r["message"] for r in results if not r["ok"]]
    if damaged:
        for d in damaged:
            print(f"error: {d}", file=sys.stderr)
        raise typer.Exit(1)


def _pin(env: str | None, snapshot: str, *, pinned: bool, lock_timeout: float) -> str:
    ws = workspace(env, lock_timeout=lock_timeout)
    series, _repos = find_series(catalogs(ws.state.read()) or read_catalogs(ws), snapshot)
    _plan, result, _stored = run_planned(
        ws, f"{'pin' if pinned else 'unpin'} {snapshot}",
        lambda doc, when: plan_pin(ws, doc, series, snapshot, pinned=pinned, now=when),
        auto_approve=True, show=None, quiet=True)
    assert result is not None
    _fail_on(result)
    return series


@app.command()
@guarded
def pin(snapshot: str, env: EnvOpt = None,
        fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
        lock_timeout: LockTimeout = 0.0) -> None:
    """Protect a snapshot from retention.  Example: drydock backups pin 20261125T…"""
    require_format(fmt, Format.text, Format.json)
    series = _pin(env, snapshot, pinned=True, lock_timeout=lock_timeout)
    if fmt is Format.json:
        print_json({"snapshot": snapshot, "series": series, "pinned": True})
        return
    err.print(f"pinned {snapshot} of {series}; retention will never delete it")


@app.command()
@guarded
def unpin(snapshot: str, env: EnvOpt = None,
          fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
          lock_timeout: LockTimeout = 0.0) -> None:
    """Let retention consider a pinned snapshot again."""
    require_format(fmt, Format.text, Format.json)
    series = _pin(env, snapshot, pinned=False, lock_timeout=lock_timeout)
    if fmt is Format.json:
        print_json({"snapshot": snapshot, "series": series, "pinned": False})
        return
    err.print(f"unpinned {snapshot}")


def series_loader(env: str | None) -> Callable[[str], list[RetentionSnapshot]]:
    """For `backups forget SERIES`: the series' snapshots in its policy's repository.

    The loader raises the commands' known errors (spec, state, catalog) for bad input."""
    def load(series: str) -> list[RetentionSnapshot]:
        ws = workspace(env)
        doc = ws.state.read()
        policy = ws.spec.env.backups.get(series)
        if policy is None:
            raise CatalogError(f"no backup policy {series!r} in {ws.spec.directory}")
        cat = catalogs(doc).get(series) or read_catalogs(ws)[series]
        rec = doc.resources.get(f"backup.{series}") or _empty(series)
        verified = set(rec.data.get("verified", {}))
        pins = set(rec.data.get("pins", [])) | set(policy.pinned)
        return [RetentionSnapshot(id=e.id, time=e.created, tags=e.tags,
                                  verified=e.id in verified, pinned=e.id in pins)
                for e in cat.repos.get(policy.repository, ())]
    return load
