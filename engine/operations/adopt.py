"""Adopt what already exists: observe declared servers and databases and record them in
the state as they are, so the first plan shows only real differences and drift has a
baseline from the start (`drydock import`).

A record holds what the observation found for every attribute drydock manages on that
resource (a server's update level when declared, its patches, the digest of every
managed file; a database's engine and location), with the files' fingerprints for the
next refresh. Nothing in the world is changed, and nothing is recorded unless every
address can be imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.contracts.models import AttrDiff, DesiredResource, ObservedResource
from engine.desired import build_desired
from engine.diff import diff_resource
from engine.refresh import refresh
from engine.workspace import Workspace
from state.document import AppliedInfo, ResourceRecord, StateDocument

ADOPTABLE = ("server", "database")


class AdoptError(ValueError):
    """An address that cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class Imported:
    """One adopted resource: its record and how it differs from the spec today."""

    address: str
    record: ResourceRecord
    differences: tuple[AttrDiff, ...]


def _check(address: str, desired: dict[str, DesiredResource], doc: StateDocument) -> None:
    kind = address.partition(".")[0]
    if kind not in ADOPTABLE:
        raise AdoptError(f"{address}: only servers and databases are imported (backup "
                           "catalogs are read from their repositories)")
    if address not in desired:
        raise AdoptError(f"{address} is not declared in the spec; declare it as it is, "
                           "then import it")
    if address in doc.resources:
        raise AdoptError(f"{address} is already in the state; 'drydock state rm {address}' "
                           "first to import it again")


def _record(address: str, want: DesiredResource, seen: ObservedResource,
            now: datetime) -> ResourceRecord:
    kind, _, name = address.partition(".")
    attributes = {k: seen.attributes[k] for k in want.attributes if k in seen.attributes}
    return ResourceRecord(kind=kind, name=name, attributes=attributes,
                          fingerprints=dict(seen.fingerprints), updated_at=now)


def observe_for_import(ws: Workspace, doc: StateDocument, addresses: Sequence[str],
                       now: datetime) -> list[Imported]:
    """Observe `addresses` and make their records (not yet stored).

    Raises AdoptError for an address that is unknown, of a kind that is not adopted,
    already recorded, not observable or absent from the world.
    """
    desired = build_desired(ws.spec)
    wanted = list(dict.fromkeys(addresses))
    for address in wanted:
        _check(address, desired, doc)
    try:
        seen = refresh(ws.registry, ws.spec, {a: desired[a] for a in wanted}, {})
    finally:
        ws.registry.close()
    out = []
    for address in wanted:
        found = seen[address]
        if found.error:
            raise AdoptError(f"{address}: cannot be observed ({found.error})")
        if not found.exists:
            raise AdoptError(f"{address} does not exist in the world; nothing to import "
                               "(plan creates it)")
        record = _record(address, desired[address], found, now)
        change = diff_resource(address, record.kind, desired[address], None, found)
        out.append(Imported(address, record, change.diffs))
    return out


def store_imported(ws: Workspace, doc: StateDocument, imported: Sequence[Imported],
                   applied: AppliedInfo) -> StateDocument:
    """Write the records into the state read as `doc` (under the caller's lock)."""
    resources = {**doc.resources, **{i.address: i.record for i in imported}}
    return ws.state.write(doc.model_copy(update={"resources": resources, "applied": applied}),
                          expect=doc)
