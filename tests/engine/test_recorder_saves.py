"""The recorder's saves while an apply runs: every 5 s, less often as saves grow dearer,
so rewriting the document stays a bounded share of the run (linear, never O(n^2))."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.contracts.models import Plan, StateRef
from engine.contracts.provider import Registry
from engine.recorder import SAVE_EVERY_SECONDS, SAVE_SHARE, StateRecorder
from engine.workspace import open_workspace

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_the_interval_grows_with_the_cost_of_the_last_save(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("environment: t\nstate: {backend: local, path: s.json}\n")
    ws = open_workspace(tmp_path, Registry([]))
    with ws.state.lock("test"):
        doc = ws.state.read()
        plan = Plan(id="p", environment="t", created_at=NOW, spec_digest=ws.spec.digest,
                    state=StateRef(lineage=doc.lineage, serial=doc.serial))
        recorder = StateRecorder(ws.state, doc, plan, NOW)
        assert recorder.interval() == SAVE_EVERY_SECONDS
        recorder.save(final=False)
        assert recorder.save_cost > 0 and recorder.doc.serial == doc.serial + 1
        recorder.save_cost = 2.0  # a document that takes 2 s to write
        assert recorder.interval() == 2.0 / SAVE_SHARE
        recorder.save_cost = 0.01
        assert recorder.interval() == SAVE_EVERY_SECONDS
