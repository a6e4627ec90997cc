"""The recorder's `_also` outcome data, through the real apply_plan and a real local state:
facts merged into other records at once, kept when a later action of the resource fails,
a missing record created with the plan's attributes; folder targets never recorded.

The provider here is a test double that returns chosen outcomes: what is under test is
the engine's recording, not any provider.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from engine.contracts.models import Action, Plan, RecordUpdate, StateRef
from engine.contracts.provider import (
    ALSO,
    ActionContext,
    ActionFailed,
    ActionOutcome,
    Provider,
    Registry,
)
from engine.operations.plan_apply import apply_plan
from engine.workspace import open_workspace
from state.document import ResourceRecord

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SPEC = "environment: t\nstate: {backend: local, path: state/t.json}\n"


class Scripted(Provider):
    """Returns each action's `params["outcome"]` as its data, or fails when told to."""

    action_types: ClassVar[tuple[str, ...]] = ("test.emit", "test.fail")

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        if action.type == "test.fail":
            raise ActionFailed(f"{action.id}: failing on purpose")
        return ActionOutcome(message="ok", data=action.params.get("outcome", {}))


def workspace(tmp_path: Path):
    (tmp_path / "t.yaml").write_text(SPEC)
    return open_workspace(tmp_path, Registry([Scripted()]))


def plan(ws, doc, actions: list[Action], records: tuple[RecordUpdate, ...] = ()) -> Plan:
    return Plan(id="p1", environment="t", created_at=NOW, spec_digest=ws.spec.digest,
                state=StateRef(lineage=doc.lineage, serial=doc.serial), actions=tuple(actions),
                records=records)


def test_also_data_lands_in_other_records_and_survives_a_later_failure(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    doc = ws.state.read()
    backup = ResourceRecord(kind="backup", name="db", attributes={"repository": "v"},
                            data={"verified": {"old": "2026-01-01"}, "catalog": {"v": []}})
    doc = ws.state.write(doc.model_copy(update={"resources": {"backup.db": backup}}), expect=doc)
    emit = Action(id="drill.d/run", address="drill.d", type="test.emit", summary="", params={
        "outcome": {ALSO: {"drill.d": {"runs": [{"n": 1}]},
                           "backup.db": {"verified": {"s1": "2026-06-01"}}}}})
    fail = Action(id="drill.d/verdict", address="drill.d", type="test.fail", summary="",
                  depends_on=(emit.id,))
    record = RecordUpdate(address="drill.d", kind="drill", name="d", attributes={"every": 1})
    made = plan(ws, doc, [emit, fail], (record,))
    result, stored = apply_plan(ws, made, NOW, doc=doc)
    assert not result.ok
    drill = stored.resources["drill.d"]
    assert drill.data == {"runs": [{"n": 1}]}
    assert drill.attributes == {"every": 1}  # created with the plan's attributes
    backup = stored.resources["backup.db"]
    assert backup.data["verified"] == {"old": "2026-01-01", "s1": "2026-06-01"}
    assert backup.attributes == {"repository": "v"} and backup.data["catalog"] == {"v": []}


def test_folder_targets_are_not_recorded_as_resources(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    doc = ws.state.read()
    action = Action(id="dir:/tmp/x.y/restore", address="dir:/tmp/x.y", type="test.emit",
                    summary="", params={"outcome": {"restored": {"snapshot": "s"}}})
    result, stored = apply_plan(ws, plan(ws, doc, [action]), NOW, doc=doc)
    assert result.ok
    assert stored.resources == {}
