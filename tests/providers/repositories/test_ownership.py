"""Repositories own their paths: marked on first use, foreign paths refused, and only
drydock's own snapshot folders (and files in them) are ever removed."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository
from tests.providers.repositories.test_repository_contract import SMALL, part, put

LATER = datetime.now(UTC) + timedelta(days=2)


def test_first_use_marks_the_path_with_name_and_format(harness):
    repo = harness.make("vault")
    put(repo, data={"p": SMALL})
    again = harness.make("vault")
    assert len(again.list()) == 1
    if isinstance(repo, LocalRepository):
        marker = json.loads((repo.path / ".drydock-repository").read_text())
        assert marker["repository"] == "vault" and marker["format"] == 1


def test_a_path_marked_for_another_repository_is_refused(tmp_path):
    put(LocalRepository("primary-vault", tmp_path / "shared"), data={"p": SMALL})
    other = LocalRepository("dr-vault", tmp_path / "shared")
    with pytest.raises(RepositoryError) as caught:
        put(other, data={"p": SMALL})
    message = str(caught.value)
    assert message.startswith(f"repository dr-vault: {tmp_path / 'shared'} belongs to "
                              "repository 'primary-vault'")
    assert "\n" not in message


def test_an_unmarked_path_holding_other_things_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "home-of-other-tool"
    (path / "archive" / "2024").mkdir(parents=True)
    (path / "archive" / "2024" / "tape.tar").write_bytes(b"theirs")
    before = sorted(p.relative_to(path) for p in path.rglob("*"))
    repo = LocalRepository("vault", path)
    for call in (lambda: put(repo, data={"p": SMALL}), repo.list):
        with pytest.raises(RepositoryError) as caught:
            call()
        assert str(caught.value) == (
            f"repository vault: {path} already holds 'archive/2024' and is not a drydock "
            "repository (no .drydock-repository); point the repository at an empty or new path")
    assert sorted(p.relative_to(path) for p in path.rglob("*")) == before


def test_an_unmarked_path_holding_only_snapshots_is_adopted(tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    sid = put(repo, data={"p": SMALL})
    (repo.path / ".drydock-repository").unlink()  # written before marking existed
    adopted = LocalRepository("vault", tmp_path / "vault")
    assert [m.id for m in adopted.list()] == [sid]
    put(adopted, data={"p": SMALL})
    assert (repo.path / ".drydock-repository").is_file()


def test_two_first_uses_at_once_both_write(tmp_path, monkeypatch):
    # Two backups into one new repository: the other writer marks the path and makes its
    # snapshot folder (not yet its in-progress marker) between this one's marker read and
    # its scan of the path. The interleaving is forced; both writers are the real code.
    path = tmp_path / "vault"
    path.mkdir()
    first, other = LocalRepository("vault", path), LocalRepository("vault", path)
    scan = first._check_unmarked

    def interleaved(where: str) -> None:
        other._claim(create=True)
        (path / "audit-db" / "20260101T020000Z-62d78a").mkdir(parents=True)
        scan(where)

    monkeypatch.setattr(first, "_check_unmarked", interleaved)
    sid = put(first, data={"p": SMALL})
    assert [m.id for m in LocalRepository("vault", path).list("apim-db")] == [sid]


def test_another_tools_folder_beside_the_snapshots_is_never_touched(tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    keeper = put(repo, data={"p": SMALL})
    theirs = repo.path / "apim-db" / "20200101T000000Z-theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    old = (LATER - timedelta(days=30)).timestamp()
    os.utime(theirs / "notes.txt", (old, old))
    os.utime(theirs, (old, old))
    assert repo.leftovers() == []
    assert repo.cleanup_incomplete(now=LATER, grace=timedelta(hours=1)) == []
    assert not repo.remove_leftover("apim-db", "20200101T000000Z-theirs")
    assert (theirs / "notes.txt").read_text() == "keep me"
    assert [m.id for m in repo.list()] == [keeper]


def test_an_interrupted_write_is_recognisable_and_removed_only_when_asked(harness):
    repo = harness.make("vault")

    def dies(sink: object) -> None:
        raise KeyboardInterrupt  # what a killed dumper looks like from inside

    sid = "20261125T170000Z-dead03"
    from providers.repositories.manifest import SnapshotFields, SnapshotSource

    fields = SnapshotFields(source=SnapshotSource(kind="paths", address="x"), created=LATER)
    with pytest.raises(KeyboardInterrupt):
        # the discard on failure is what a SIGKILL skips: undo it to leave the leftover
        repo._discard = lambda *a: None  # type: ignore[method-assign]
        from providers.repositories.models import PartSource

        repo.put("apim-db", sid, [part("a", SMALL), PartSource(name="b", kind="dump",
                                                               write=dies)], fields)
    listed = repo.leftovers("apim-db")
    assert [(item.series, item.id) for item in listed] == [("apim-db", sid)]
    assert repo.leftovers("other") == []
    assert repo.remove_leftover("apim-db", sid)
    assert repo.leftovers() == []


def test_deleting_a_snapshot_keeps_files_somebody_else_put_inside(tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    sid = put(repo, data={"p": SMALL})
    stranger = repo.path / "apim-db" / sid / "README.operator"
    stranger.write_text("do not lose me")
    repo.delete("apim-db", sid)
    assert repo.list() == []
    assert stranger.read_text() == "do not lose me"
    assert sorted(p.name for p in stranger.parent.iterdir()) == ["README.operator"]


def test_snapshot_files_are_0600_and_folders_0700(tmp_path):
    repo = LocalRepository("vault", tmp_path / "a" / "vault")
    sid = put(repo, data={"p": SMALL})
    snapshot = repo.path / "apim-db" / sid
    for folder in (tmp_path / "a", repo.path, repo.path / "apim-db", snapshot):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in (*snapshot.iterdir(), repo.path / ".drydock-repository"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_a_repository_path_that_is_a_file_lists_nothing_and_refuses_writes(tmp_path: Path):
    path = tmp_path / "vault"
    path.write_text("not a directory")
    repo = LocalRepository("vault", path)
    assert repo.list() == []
    with pytest.raises(RepositoryError, match="is not a directory"):
        put(repo, data={"p": SMALL})
