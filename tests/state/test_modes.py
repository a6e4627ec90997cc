"""State, history, journal and lock are owner-only: 0600 files in 0700 folders, also when
an older version left them 0644 and whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from state.journal import Journal
from state.local import history_dir, journal_path, open_local_state


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o002)
    yield
    os.umask(old)


def test_state_history_journal_and_lock_are_owner_only(tmp_path: Path, loose_umask) -> None:
    path = tmp_path / "a" / "b" / "demo.json"
    manager = open_local_state(path, "demo")
    with manager.lock("apply"):
        doc = manager.read()
        doc = manager.write(doc, expect=doc)
        manager.write(doc, expect=doc)
    with Journal.open(journal_path(path)) as journal:
        del journal
    files = [path, journal_path(path), *history_dir(path).iterdir(),
             *(p for p in path.parent.iterdir() if p.name.endswith(".lock"))]
    assert len(files) >= 4
    for file in files:
        assert mode(file) == 0o600, file
    for folder in (tmp_path / "a", path.parent, history_dir(path)):
        assert mode(folder) == 0o700, folder


def test_files_left_0644_by_an_older_version_are_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    manager = open_local_state(path, "demo")
    with manager.lock("apply"):
        doc = manager.read()
        manager.write(doc, expect=doc)
    locks = [p for p in tmp_path.iterdir() if p.name.endswith(".lock")]
    for file in [path, journal_path(path), *locks]:
        file.touch()
        file.chmod(0o644)
    with manager.lock("apply"):
        doc = manager.read()
        manager.write(doc, expect=doc)
    with Journal.open(journal_path(path)):
        pass
    for file in [path, journal_path(path), *locks]:
        assert mode(file) == 0o600, file
