"""A refresh-only plan (pure): no action, only records that accept drift into the state.

Each drifted resource's record takes the observed value of every attribute that drifted
(attributes whose drift is ignored are left as recorded); a resource gone from the world
is forgotten. Applying such a plan changes nothing in the world.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.contracts.models import Drift, RecordUpdate
from state.document import StateDocument

GONE = "recorded but gone from the world"


def accepted_records(drift: Sequence[Drift], doc: StateDocument,
                     selected: Callable[[str], bool] = lambda _a: True) -> list[RecordUpdate]:
    """The records that make the state say what a refresh found, per drifted address."""
    out = []
    for found in drift:
        if not selected(found.address):
            continue
        kind, _, name = found.address.partition(".")
        if found.reason == GONE:
            out.append(RecordUpdate(address=found.address, kind=kind, name=name, remove=True))
            continue
        record = doc.resources.get(found.address)
        attributes = dict(record.attributes) if record is not None else {}
        attributes.update({d.name: d.after for d in found.diffs})
        out.append(RecordUpdate(address=found.address, kind=kind, name=name,
                                attributes=attributes))
    return out


def refresh_only_warning(records: Sequence[RecordUpdate]) -> str:
    """The line a refresh-only plan shows about what applying it does."""
    if not records:
        return "refresh-only: no drift, nothing to accept into the state"
    return (f"refresh-only: applying this plan records {len(records)} drifted resource(s) as "
            "they are now (" + ", ".join(r.address for r in records) + "); nothing in the "
            "world changes")
