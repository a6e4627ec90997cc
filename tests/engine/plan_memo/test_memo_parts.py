"""The memo's parts alone: the plain-plan argv, the strict document, the witness."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from engine.commands.plan_shortcut import plain_plan
from engine.contracts.witness import Witness
from engine.plan_memo.memo import Memo, MemoError, parse_memo
from providers.hosts.local import LocalTransport
from providers.hosts.pool import _Guarded
from providers.hosts.witness_replay import replay


@pytest.mark.parametrize(("argv", "want"), [
    (["plan"], (None, "text")),
    (["plan", "specs/prod", "--format", "json"], ("specs/prod", "json")),
    (["plan", "--format=markdown", "--detailed-exitcode", "."], (".", "markdown")),
    (["plan", "--help"], None), (["plan", "a", "b"], None), (["plan", "--format", "xml"], None),
    (["plan", "--target", "server.x"], None), (["apply", "."], None), ([], None),
    (["plan", "--format"], None),
])
def test_only_the_plain_plan_forms_take_the_shortcut(argv: list[str], want: object) -> None:
    assert plain_plan(argv) == want


@pytest.mark.parametrize("doc", [
    b"", b"[]", b'{"format": 2}', b'{"format": 1, "reads": [[1, 2, 3, 4]]}',
    b'{"format": 1, "reads": [], "key": "k", "spec_digest": "d", "templates": [],'
    b' "files": {}, "git": null, "outputs": {"html": "x"}}',
    b'{"format": 1, "reads": [], "key": "k", "spec_digest": "d", "templates": [],'
    b' "files": {"a": 1}, "git": null, "outputs": {}}',
])
def test_anything_but_a_well_formed_memo_is_refused(doc: bytes) -> None:
    with pytest.raises(MemoError):
        parse_memo(doc)


def test_a_memo_survives_its_own_round_trip() -> None:
    memo = Memo(key="k", spec_digest="sha256:x", templates=("t.j2",), files={"/s": "-"},
                git={"commit": None, "branch": None, "dirty": False}, reads=(),
                outputs={"text": "plan \x00plan-id\x00\n"})
    assert parse_memo(memo.to_json()) == memo


def test_the_witness_replays_reads_and_spots_each_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("one")
    old = 10**9 * 1_000_000
    for p in (tmp_path / "d" / "f", tmp_path / "d"):
        os.utime(p, ns=(old, old))
    witness = Witness(now_ns=old + 10**12)
    t = _Guarded(LocalTransport("node"))
    t.watch(witness)
    root = PurePosixPath(tmp_path)
    t.stat(root / "d" / "f")
    t.list_dir(root / "d")
    t.read_bytes(root / "d" / "f")
    t.realpath(root / "d")
    t.stat(root / "absent")
    assert witness.trusted and len(witness.reads) == 5
    assert replay(witness.reads) is None
    (tmp_path / "absent").write_text("now here")
    assert replay(witness.reads) == f"node:{root / 'absent'} changed"


def test_commands_and_writes_spoil_the_witness(tmp_path: Path) -> None:
    witness = Witness(now_ns=0)
    t = _Guarded(LocalTransport("node"))
    t.watch(witness)
    t.run(["true"])
    assert not witness.trusted and "run" in witness.problems[0]
