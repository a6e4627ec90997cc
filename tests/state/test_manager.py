"""StateManager contract, run against every backend: serials, lineage, history, rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from state.document import AppliedInfo, ResourceRecord, new_document, to_bytes, with_resources
from state.errors import (
    StateConflictError,
    StateCorruptError,
    StateHistoryError,
    StateLineageError,
    StateLockedError,
)
from state.manager import StateManager
from tests.state.conftest import Backend

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _server(name: str, level: int) -> ResourceRecord:
    return ResourceRecord(kind="server", name=name, attributes={"update_level": level})


def _applied(summary: str) -> AppliedInfo:
    return AppliedInfo(who="ops", when=WHEN, summary=summary)


def _write_levels(manager: StateManager, levels: list[int]) -> None:
    for level in levels:
        current = manager.read()
        changed = with_resources(current, [_server("gw-1", level)]).model_copy(
            update={"applied": _applied(f"level {level}")}
        )
        manager.write(changed, expect=current)


def _level(manager: StateManager) -> int:
    return manager.read().resources["server.gw-1"].attributes["update_level"]


def test_read_of_absent_state_is_a_new_empty_document(backend: Backend) -> None:
    doc = backend.manager().read()
    assert (doc.environment, doc.serial, doc.resources) == ("demo", 0, {})


def test_each_write_bumps_serial_and_reads_back_equal(backend: Backend) -> None:
    manager = backend.manager()
    first = manager.read()
    one = manager.write(with_resources(first, [_server("gw-1", 1)]), expect=first)
    two = manager.write(with_resources(one, [_server("gw-1", 2)]), expect=one)
    assert (one.serial, two.serial) == (1, 2)
    stored = manager.read()
    assert stored == two
    assert stored.lineage == first.lineage
    assert stored.checksum.startswith("sha256:")


def test_stale_write_is_refused_and_keeps_the_newer_state(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1])
    read_by_a = manager.read()
    read_by_b = manager.read()
    manager.write(with_resources(read_by_b, [_server("gw-1", 2)]), expect=read_by_b)
    with pytest.raises(StateConflictError, match=r"serial 2 now, 1 when read"):
        manager.write(with_resources(read_by_a, [_server("gw-1", 3)]), expect=read_by_a)
    assert manager.read().serial == 2
    assert _level(manager) == 2


def test_two_runs_creating_the_same_state_only_one_wins(backend: Backend) -> None:
    manager = backend.manager()
    fresh_a = manager.read()
    fresh_b = manager.read()
    manager.write(fresh_a, expect=fresh_a)
    with pytest.raises(StateConflictError, match="created by another run"):
        manager.write(fresh_b, expect=fresh_b)
    assert manager.read().lineage == fresh_a.lineage


def test_document_of_another_lineage_is_refused(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1])
    current = manager.read()
    foreign = new_document("demo").model_copy(update={"serial": current.serial})
    with pytest.raises(StateLineageError):
        manager.write(foreign, expect=foreign)
    with pytest.raises(StateLineageError):
        manager.write(foreign, expect=current)
    assert manager.read() == current


def test_state_of_another_environment_is_refused_on_read(backend: Backend) -> None:
    prod = new_document("prod")
    backend.manager(environment="prod").write(prod, expect=prod)
    with pytest.raises(StateLineageError, match="belongs to environment 'prod', not 'demo'"):
        backend.manager(environment="demo").read()


def test_history_keeps_the_newest_twenty_versions(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, list(range(1, 26)))
    history = manager.history()
    assert [entry.serial for entry in history] == list(range(25, 5, -1))
    assert all(entry.valid and entry.size > 0 for entry in history)
    assert history[0].summary == "level 25"
    assert history[0].applied == _applied("level 25")
    assert len(backend.store.list("demo.json.history/")) == 20


def test_history_length_follows_keep_versions(backend: Backend) -> None:
    manager = backend.manager(keep_versions=3)
    _write_levels(manager, [1, 2, 3, 4, 5])
    assert [entry.serial for entry in manager.history()] == [5, 4, 3]


def test_rollback_writes_the_old_content_as_a_new_serial(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1, 2, 3])
    rolled = manager.rollback(1, applied=_applied("rollback to serial 1"))
    assert rolled.serial == 4
    stored = manager.read()
    assert stored == rolled
    assert _level(manager) == 1
    assert stored.applied == _applied("rollback to serial 1")
    assert [entry.serial for entry in manager.history()][:2] == [4, 3]


def test_rollback_to_an_unkept_serial_is_refused(backend: Backend) -> None:
    manager = backend.manager(keep_versions=2)
    _write_levels(manager, [1, 2, 3])
    with pytest.raises(StateHistoryError, match="serial 1 .* not kept"):
        manager.rollback(1)
    assert manager.read().serial == 3


def _corrupt_current(backend: Backend, data: bytes) -> None:
    blob = backend.store.get("demo.json")
    assert blob is not None
    backend.store.put("demo.json", data, expect_version=blob.version)


def test_truncated_state_is_refused_naming_the_last_good_version(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1, 2, 3, 4, 5, 6, 7])
    good = backend.store.get("demo.json")
    assert good is not None
    _corrupt_current(backend, good.data[: len(good.data) // 2])
    with pytest.raises(StateCorruptError) as caught:
        manager.read()
    message = str(caught.value)
    assert message.startswith(f"state {manager.location} is corrupt (truncated")
    history_location = backend.store.location("demo.json.history/7.json")
    assert f"the last good version is serial 7 at {history_location}" in message
    assert "run 'drydock state rollback 7'" in message
    assert "\n" not in message


def test_corrupt_state_can_be_rolled_back_and_written_again(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1, 2, 3])
    good = backend.store.get("demo.json")
    assert good is not None
    _corrupt_current(backend, good.data.replace(b'"update_level": 3', b'"update_level": 9'))
    with pytest.raises(StateCorruptError, match="checksum mismatch"):
        manager.read()
    fresh = new_document("demo")
    with pytest.raises(StateCorruptError):
        manager.write(fresh, expect=fresh)
    rolled = manager.rollback(3)
    assert rolled.serial == 4
    assert _level(manager) == 3
    _write_levels(manager, [4])
    assert manager.read().serial == 5


def test_damaged_history_copies_are_skipped_when_naming_the_last_good(backend: Backend) -> None:
    manager = backend.manager()
    _write_levels(manager, [1, 2, 3])
    for key in ("demo.json", "demo.json.history/3.json"):
        blob = backend.store.get(key)
        assert blob is not None
        backend.store.put(key, b"{garbage", expect_version=blob.version)
    with pytest.raises(StateCorruptError, match="last good version is serial 2 at"):
        manager.read()
    assert [(e.serial, e.valid) for e in manager.history()] == [(3, False), (2, True), (1, True)]
    assert manager.history()[0].summary.startswith("corrupt: ")


def test_corrupt_state_without_history_says_to_restore_from_backup(backend: Backend) -> None:
    backend.store.put("demo.json", to_bytes(new_document("demo"))[:-20], expect_version=None)
    with pytest.raises(StateCorruptError, match="no good earlier version is kept"):
        backend.manager().read()


def test_lock_context_refuses_a_second_run_and_frees_on_exit(backend: Backend) -> None:
    first = backend.manager()
    second = backend.manager()
    with first.lock("apply") as info:
        assert info.operation == "apply"
        with pytest.raises(StateLockedError, match=f"lock id {info.id}"), second.lock("plan"):
            pass
    with second.lock("plan") as again:
        assert again.operation == "plan"


def test_read_version_returns_kept_serials_and_refuses_others(tmp_path) -> None:
    from state.errors import StateHistoryError
    from state.local import open_local_state

    manager = open_local_state(tmp_path / "s.json", "env")
    doc = manager.read()
    first = manager.write(doc, expect=doc)
    second = manager.write(first, expect=first)
    assert manager.read_version(1).serial == 1 and manager.read_version(2) == second
    with pytest.raises(StateHistoryError, match="not kept"):
        manager.read_version(9)
