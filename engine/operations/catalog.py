"""Catalog operations as plans: rebuild the snapshot catalog, verify a snapshot, pin one.

Each is a plan of `backup.*` actions applied by `apply_plan` like any other: through the
walker and the journal, recorded by the recorder in one state write per run, from the
state read under the run's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.contracts.catalog import SeriesCatalog, catalog_from_data
from engine.contracts.models import Action, Plan
from engine.gitinfo import git_info
from engine.operations.ids import new_id
from engine.planners.assemble import assemble_plan
from engine.workspace import Workspace
from state.document import StateDocument


class CatalogError(ValueError):
    """A catalog operation cannot be planned; the message says what to do instead."""


def catalogs(doc: StateDocument) -> dict[str, SeriesCatalog]:
    """Series name -> catalog as cached in the state."""
    return {r.name: catalog_from_data(r.name, r.data)
            for r in doc.resources.values() if r.kind == "backup"}


def read_catalogs(ws: Workspace) -> dict[str, SeriesCatalog]:
    """Series name -> catalog read from the repositories alone (the state may be lost).

    Raises QueryFailed naming the series whose repositories could not be read.
    """
    return {name: ws.registry.read_catalog(ws.spec, name) for name in ws.spec.env.backups}


def find_series(cats: dict[str, SeriesCatalog], snapshot: str) -> tuple[str, list[str]]:
    """(series, repositories) holding `snapshot`. Raises CatalogError when unknown."""
    for name, cat in cats.items():
        repos = cat.copies_of(snapshot)
        if repos:
            return name, repos
    raise CatalogError(f"snapshot {snapshot} is not in the catalog; run 'drydock backups list "
                       "--rebuild'")


def _plan(ws: Workspace, doc: StateDocument, actions: Sequence[Action], now: datetime) -> Plan:
    return assemble_plan(ws.spec, doc, actions, plan_id=new_id(now), now=now,
                         git=git_info(ws.spec.directory))


def plan_catalog_rebuild(ws: Workspace, doc: StateDocument, cats: dict[str, SeriesCatalog],
                         now: datetime) -> Plan:
    """One `backup.catalog` action per series of `cats` (read by `read_catalogs`) that
    records its catalog in the state."""
    actions = [Action(id=f"backup.{name}/catalog", address=f"backup.{name}",
                      type="backup.catalog", summary=f"record the catalog of {name}",
                      params={"series": name, "catalog": {
                          r: [e.model_dump(mode="json") for e in es]
                          for r, es in cat.repos.items()}})
               for name, cat in sorted(cats.items())]
    return _plan(ws, doc, actions, now)


def plan_verify(ws: Workspace, doc: StateDocument, series: str, snapshot: str,
                repositories: Sequence[str], now: datetime) -> Plan:
    """One `backup.verify` action per repository holding `snapshot` of `series`."""
    actions = [Action(id=f"backup.{series}/verify-{repo}", address=f"backup.{series}",
                      type="backup.verify", summary="verify",
                      params={"series": series, "snapshot_id": snapshot, "repository": repo})
               for repo in repositories]
    return _plan(ws, doc, actions, now)


def plan_pin(ws: Workspace, doc: StateDocument, series: str, snapshot: str, *, pinned: bool,
             now: datetime) -> Plan:
    """A `backup.pin` action recording `series`' pins with `snapshot` added or removed."""
    rec = doc.resources.get(f"backup.{series}")
    pins = set(rec.data.get("pins", [])) if rec else set()
    pins = pins | {snapshot} if pinned else pins - {snapshot}
    verb = "pin" if pinned else "unpin"
    action = Action(id=f"backup.{series}/{verb}", address=f"backup.{series}", type="backup.pin",
                    summary=f"{verb} {snapshot}",
                    params={"series": series, "snapshot_id": snapshot, "pins": sorted(pins)})
    return _plan(ws, doc, [action], now)
