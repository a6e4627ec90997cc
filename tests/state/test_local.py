"""Local backend specifics: key safety, atomic writes, CAS between processes, file layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from state.document import new_document
from state.errors import StateBackendError
from state.local import LocalBlobStore, history_dir, journal_path, open_local_state
from tests.state._children import race_put
from tests.state.processes import child, receive


@pytest.mark.parametrize("key", ["../escape.json", "/abs.json", ".hidden.json", "a/../../b"])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "state")
    with pytest.raises(StateBackendError, match="state key"):
        store.put(key, b"x", expect_version=None)
    assert not (tmp_path / "escape.json").exists()


def test_put_leaves_no_temp_files_and_list_ignores_hidden(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    version = store.put("demo.json", b"one", expect_version=None)
    store.put("demo.json", b"two", expect_version=version)
    (tmp_path / ".demo.json.tmp-leftover").write_bytes(b"partial")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.json.tmp-leftover", "demo.json"]
    assert store.list("") == ["demo.json"]


def test_failed_write_changes_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put("demo.json", b"kept", expect_version=None)
    (tmp_path / "blocker").write_bytes(b"a file where a directory is needed")
    with pytest.raises(StateBackendError, match="nothing was changed"):
        store.put("blocker/inner.json", b"x", expect_version=None)
    assert (tmp_path / "demo.json").read_bytes() == b"kept"
    assert (tmp_path / "blocker").read_bytes() == b"a file where a directory is needed"


def test_compare_and_swap_between_processes_has_one_winner(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    base = store.put("demo.json", b"base", expect_version=None)
    racers = 4
    with (
        child(race_put, str(tmp_path), "demo.json", base, b"racer-0") as (_, c0),
        child(race_put, str(tmp_path), "demo.json", base, b"racer-1") as (_, c1),
        child(race_put, str(tmp_path), "demo.json", base, b"racer-2") as (_, c2),
        child(race_put, str(tmp_path), "demo.json", base, b"racer-3") as (_, c3),
    ):
        conns = [c0, c1, c2, c3]
        for conn in conns:
            conn.send("go")
        outcomes = [receive(conn) for conn in conns]
    assert sorted(outcomes) == ["lost"] * (racers - 1) + ["won"]
    winner = outcomes.index("won")
    assert (tmp_path / "demo.json").read_bytes() == f"racer-{winner}".encode()


def test_open_local_state_lays_out_files_beside_the_state(tmp_path: Path) -> None:
    path = tmp_path / ".drydock" / "state" / "demo.json"
    manager = open_local_state(path, "demo")
    with manager.lock("apply"):
        doc = manager.read()
        manager.write(doc, expect=doc)
    assert path.is_file()
    assert (history_dir(path) / "1.json").read_bytes() == path.read_bytes()
    assert path.with_name("demo.json.lock").is_file()
    assert journal_path(path) == path.with_name("demo.json.journal")
    assert manager.location == str(path)


def test_state_file_is_pretty_sorted_json_with_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    manager = open_local_state(path, "demo")
    doc = new_document("demo")
    manager.write(doc, expect=doc)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.startswith('{\n  "applied": null,\n  "checksum": "sha256:')
