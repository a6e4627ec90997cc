"""Move a state and its whole history to another backend, with both locks held.

The destination gets the same bytes: the kept history versions first, then the current
document, so lineage and serial stay what they were and `state history` reads the same
there. A destination that already holds another lineage is refused; one that holds this
lineage at the same serial is already migrated (nothing is written); one that is ahead
is refused too. The source is left as it was: the operator points the spec at the new
location once the move succeeded.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from state.errors import StateConflictError, StateError, StateLineageError
from state.manager import StateManager


class MigrateResult(BaseModel):
    """What a migration moved: where from and to, the lineage, serial and versions."""

    model_config = ConfigDict(frozen=True)

    source: str
    destination: str
    lineage: str
    serial: int
    versions: int
    written: bool


def migrate_state(source: StateManager, dest: StateManager, *,
                  operation: str = "state migrate") -> MigrateResult:
    """Copy the state of `source` with its history to `dest`, holding both locks.

    Returns what was moved. Raises StateError when the source holds no state or both are
    one location, StateLockedError (naming the holder) when either is locked,
    StateLineageError when `dest` holds another lineage, StateConflictError when `dest`
    is ahead or changed meanwhile.
    """
    if source.location == dest.location:
        raise StateError(f"state {source.location} is already there; name another location")
    with source.lock(operation), dest.lock(operation):
        found = source.stored()
        if found is None:
            raise StateError(f"state {source.location} holds nothing yet; there is nothing to "
                             "migrate (run apply first, or just point the spec elsewhere)")
        doc, blob = found
        versions = source.export_versions()
        there = dest.stored()
        if there is not None:
            other, _ = there
            if other.lineage != doc.lineage:
                raise StateLineageError(
                    f"state {dest.location} already holds lineage {other.lineage} (serial "
                    f"{other.serial}), not {doc.lineage} of {source.location}; refusing to "
                    "overwrite another state — pick an empty location")
            if other.serial > doc.serial:
                raise StateConflictError(
                    f"state {dest.location} is ahead (serial {other.serial}) of "
                    f"{source.location} (serial {doc.serial}); it was used after an earlier "
                    "migration — point the spec at it instead of migrating again")
            if other.serial == doc.serial:
                return MigrateResult(source=source.location, destination=dest.location,
                                     lineage=doc.lineage, serial=doc.serial,
                                     versions=len(versions), written=False)
        dest.adopt(blob.data, versions,
                   expect_version=None if there is None else there[1].version)
    return MigrateResult(source=source.location, destination=dest.location,
                         lineage=doc.lineage, serial=doc.serial, versions=len(versions),
                         written=True)
