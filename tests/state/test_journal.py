"""Crash-safety journal: unfinished intents after a real crash, torn lines, compaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from state.journal import Journal, JournalIntent
from tests.state._children import crash_mid_run
from tests.state.processes import child, kill, receive

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _journal(path: Path) -> Journal:
    return Journal.open(path, clock=lambda: AT)


def test_finished_run_leaves_nothing_unfinished(tmp_path: Path) -> None:
    with _journal(tmp_path / "demo.json.journal") as journal:
        journal.begin_run("r1", "p1")
        journal.intent("r1", "a1", "server.gw-1", "server.stop")
        journal.result("r1", "a1", "ok", "stopped")
        journal.intent("r1", "a2", "server.gw-1", "server.start")
        journal.result("r1", "a2", "failed", "health check timed out")
        journal.end_run("r1")
        assert journal.unfinished() == []


def test_each_append_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with _journal(path) as journal:
        journal.begin_run("r1", None)
        journal.intent("r1", "a1", "backup.apim-db", "backup.create")
        journal.result("r1", "a1", "skipped", "")
        journal.end_run("r1")
    lines = path.read_bytes().splitlines()
    assert len(lines) == 4
    assert [r.kind for r in _journal(path).records()] == ["begin", "intent", "result", "end"]


def test_intent_of_a_killed_run_is_unfinished(tmp_path: Path) -> None:
    path = tmp_path / "state" / "demo.json.journal"
    with child(crash_mid_run, str(path)) as (process, conn):
        assert receive(conn) == "intent written"
        kill(process)
    unfinished = Journal.open(path).unfinished()
    assert [(i.run_id, i.plan_id, i.action_id, i.address, i.type) for i in unfinished] == [
        ("run-1", "plan-1", "a2", "server.gw-1", "server.update")
    ]
    assert unfinished[0].at.utcoffset() is not None


def test_torn_last_line_is_ignored_and_appends_continue_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with _journal(path) as journal:
        journal.begin_run("r1", "p1")
        journal.intent("r1", "a1", "server.gw-1", "server.stop")
    with path.open("ab") as raw:
        raw.write(b'{"kind":"result","run_id":"r1","action_id":"a1","sta')
    reopened = _journal(path)
    assert [i.action_id for i in reopened.unfinished()] == ["a1"]
    reopened.result("r1", "a1", "ok", "")
    reopened.end_run("r1")
    assert reopened.unfinished() == []
    assert [r.kind for r in reopened.records()] == ["begin", "intent", "result", "end"]
    reopened.close()


def test_intents_of_an_ended_run_are_not_unfinished(tmp_path: Path) -> None:
    with _journal(tmp_path / "j") as journal:
        journal.begin_run("r1", "p1")
        journal.intent("r1", "a1", "server.gw-1", "server.stop")
        journal.end_run("r1")
        journal.begin_run("r2", "p2")
        journal.intent("r2", "a1", "server.gw-2", "server.stop")
        assert [(i.run_id, i.plan_id) for i in journal.unfinished()] == [("r2", "p2")]


def test_clear_finished_keeps_only_unfinished_intents(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal = _journal(path)
    journal.begin_run("r1", "p1")
    journal.intent("r1", "a1", "server.gw-1", "server.stop")
    journal.result("r1", "a1", "ok", "")
    journal.end_run("r1")
    journal.begin_run("r2", "p2")
    journal.intent("r2", "b1", "server.gw-2", "server.stop")
    journal.result("r2", "b1", "ok", "")
    journal.intent("r2", "b2", "server.gw-2", "server.update")
    before = journal.unfinished()

    journal.clear_finished()

    assert (
        journal.unfinished()
        == before
        == [
            JournalIntent(
                run_id="r2",
                plan_id="p2",
                action_id="b2",
                address="server.gw-2",
                type="server.update",
                at=AT,
            )
        ]
    )
    assert len(path.read_bytes().splitlines()) == 2
    assert list(tmp_path.iterdir()) == [path]
    journal.result("r2", "b2", "ok", "")
    assert journal.unfinished() == []
    assert len(path.read_bytes().splitlines()) == 3
    journal.close()


def test_clear_finished_of_a_clean_journal_empties_it(tmp_path: Path) -> None:
    path = tmp_path / "j"
    with _journal(path) as journal:
        journal.begin_run("r1", "p1")
        journal.end_run("r1")
        journal.clear_finished()
    assert path.read_bytes() == b""
