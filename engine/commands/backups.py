"""`drydock backups ...`: the snapshot catalog, verification and pins."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from engine.clock import now as clock_now
from engine.commands.common import Format, err, fail, guarded, print_json, print_text, workspace
from engine.contracts.catalog import CatalogEntry, SeriesCatalog, catalog_from_data
from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed, ObserveRequest
from engine.retention import RetentionSnapshot
from engine.workspace import Workspace
from state.document import AppliedInfo, ResourceRecord, StateDocument

app = typer.Typer(help="Backup catalog, verification, pins and retention.",
                  no_args_is_help=True)
EnvOpt = Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")]


def catalogs(doc: StateDocument) -> dict[str, SeriesCatalog]:
    """Series name -> catalog as cached in the state."""
    return {r.name: catalog_from_data(r.name, r.data)
            for r in doc.resources.values() if r.kind == "backup"}


def rebuild(ws: Workspace) -> dict[str, SeriesCatalog]:
    """Series name -> catalog read from the repositories alone (the state may be lost)."""
    out = {}
    for name in ws.spec.env.backups:
        observed = ws.registry.observe(ObserveRequest(
            address=f"backup.{name}", kind="backup", spec=ws.spec, desired=None, recorded=None))
        if observed.error:
            fail(observed.error)
        out[name] = catalog_from_data(name, observed.facts)
    return out


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


def _save_data(ws: Workspace, name: str, update: dict[str, Any], summary: str) -> None:
    with ws.state.lock(summary):
        doc = ws.state.read()
        address = f"backup.{name}"
        old = doc.resources.get(address) or _empty(name)
        record = old.model_copy(update={"data": {**old.data, **update}})
        resources = {**doc.resources, address: record}
        applied = AppliedInfo(who=_who(), when=clock_now(), summary=summary)
        ws.state.write(doc.model_copy(update={"resources": resources, "applied": applied}),
                       expect=doc)


@app.command("list")
@guarded
def list_(
    series: Annotated[str | None, typer.Argument(help="Only this series (backup policy).")] = None,
    env: EnvOpt = None,
    rebuild_: Annotated[bool, typer.Option(
        "--rebuild", help="Read the repositories instead of the state's cache, and re-cache.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """List snapshots, oldest first.

    Examples:
      drydock backups list --env specs/demo
      drydock backups list apim-db --rebuild --format json    (state lost: repositories only)
    """
    ws = workspace(env)
    doc = ws.state.read() if not rebuild_ else _read_or_new(ws)
    cats = rebuild(ws) if rebuild_ else catalogs(doc)
    if rebuild_:
        for name, cat in cats.items():
            data = {r: [e.model_dump(mode="json") for e in es] for r, es in cat.repos.items()}
            _save_data(ws, name, {"catalog": data}, f"catalog rebuilt for {name}")
    rows = listing(ws, cats, doc, series)
    if fmt is Format.json:
        print_json({"snapshots": rows})
        return
    if not rows:
        print_text("No snapshots recorded. Try 'drydock backups list --rebuild' to read the "
                   "repositories.\n")
        return
    lines = [f"{'id':<24} {'series':<18} {'repository':<16} {'created':<26} {'size':>10}  "
             "verified  copies"]
    for r in rows:
        lines.append(f"{r['id']:<24} {r['series']:<18} {r['repository']:<16} "
                     f"{r['created']:<26} {r['size']:>10}  {'yes' if r['verified'] else 'no':<8}"
                     f"  {', '.join(r['copies']) or '-'}")
    print_text("\n".join(lines) + "\n")


def _read_or_new(ws: Workspace) -> StateDocument:
    from state.errors import StateError

    try:
        return ws.state.read()
    except StateError as exc:
        err.print(f"warning: {exc}; listing from the repositories alone")
        from state.document import new_document

        return new_document(ws.spec.env.environment)


def find(cats: dict[str, SeriesCatalog], snapshot: str) -> tuple[str, list[str]]:
    """(series, repositories) holding `snapshot`; fail when unknown."""
    for name, cat in cats.items():
        repos = cat.copies_of(snapshot)
        if repos:
            return name, repos
    fail(f"snapshot {snapshot} is not in the catalog; run 'drydock backups list --rebuild'")


@app.command()
@guarded
def verify(
    snapshot: Annotated[str, typer.Argument(help="Snapshot id.")],
    env: EnvOpt = None,
    repository: Annotated[str | None, typer.Option(
        "--repository", help="Only the copy in this repository.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
) -> None:
    """Re-hash every part of a snapshot in every repository holding it; exit 1 if damaged.

    Examples:
      drydock backups verify 20261125T020000Z-3f9a1c --env specs/prod
      drydock backups verify 20261125T020000Z-3f9a1c --format json
    """
    ws = workspace(env)
    series, repos = find(rebuild(ws), snapshot)
    if repository is not None:
        if repository not in repos:
            fail(f"snapshot {snapshot} is not in repository {repository}")
        repos = [repository]
    when = clock_now()
    ctx = ActionContext(spec=ws.spec, now=when, run_id="verify", resolve_secret=lambda r: "")
    results = []
    for repo in repos:
        action = Action(id=f"backup.{series}/verify-{repo}", address=f"backup.{series}",
                        type="backup.verify", summary="verify",
                        params={"series": series, "snapshot_id": snapshot, "repository": repo})
        try:
            results.append({"repository": repo, "ok": True,
                            "message": ws.registry.run(action, ctx).message})
        except ActionFailed as exc:
            results.append({"repository": repo, "ok": False, "message": str(exc)})
    if fmt is Format.json:
        print_json({"snapshot": snapshot, "series": series, "results": results})
    else:
        print_text("".join(f"{r['message']}\n" for r in results if r["ok"]))
    damaged = [r["message"] for r in results if not r["ok"]]
    if damaged:
        for d in damaged:
            print(f"error: {d}", file=sys.stderr)
        raise typer.Exit(1)
    _save_data(ws, series, {"verified": {**_verified(ws, series), snapshot: when.isoformat()}},
               f"verified {snapshot}")


def _verified(ws: Workspace, series: str) -> dict[str, str]:
    rec = ws.state.read().resources.get(f"backup.{series}")
    return dict(rec.data.get("verified", {})) if rec else {}


def _pins(ws: Workspace, series: str) -> list[str]:
    rec = ws.state.read().resources.get(f"backup.{series}")
    return list(rec.data.get("pins", [])) if rec else []


@app.command()
@guarded
def pin(snapshot: str, env: EnvOpt = None) -> None:
    """Protect a snapshot from retention.  Example: drydock backups pin 20261125T…"""
    ws = workspace(env)
    series, _repos = find(catalogs(ws.state.read()) or rebuild(ws), snapshot)
    pins = sorted(set(_pins(ws, series)) | {snapshot})
    _save_data(ws, series, {"pins": pins}, f"pin {snapshot}")
    err.print(f"pinned {snapshot} of {series}; retention will never delete it")


@app.command()
@guarded
def unpin(snapshot: str, env: EnvOpt = None) -> None:
    """Let retention consider a pinned snapshot again."""
    ws = workspace(env)
    series, _repos = find(catalogs(ws.state.read()) or rebuild(ws), snapshot)
    _save_data(ws, series, {"pins": [p for p in _pins(ws, series) if p != snapshot]},
               f"unpin {snapshot}")
    err.print(f"unpinned {snapshot}")


def series_loader(env: str | None) -> Callable[[str], list[RetentionSnapshot]]:
    """For `backups forget SERIES`: the series' snapshots in its policy's repository."""
    def load(series: str) -> list[RetentionSnapshot]:
        from engine.commands.common import KNOWN_ERRORS
        from engine.commands.forget import ForgetError

        try:
            ws = workspace(env)
            doc = ws.state.read()
        except KNOWN_ERRORS as exc:
            raise ForgetError(str(exc).splitlines()[0]) from None
        policy = ws.spec.env.backups.get(series)
        if policy is None:
            raise ForgetError(f"no backup policy {series!r} in {ws.spec.directory}")
        cat = catalogs(doc).get(series) or rebuild(ws)[series]
        rec = doc.resources.get(f"backup.{series}") or _empty(series)
        verified = set(rec.data.get("verified", {}))
        pins = set(rec.data.get("pins", [])) | set(policy.pinned)
        return [RetentionSnapshot(id=e.id, time=e.created, tags=e.tags,
                                  verified=e.id in verified, pinned=e.id in pins)
                for e in cat.repos.get(policy.repository, ())]
    return load


def _who() -> str:
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()}"
