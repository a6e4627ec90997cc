"""apply_policy against restic's own retention test suite (shared/conformance), case by case."""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

from engine.retention import RetentionSnapshot, apply_policy
from engine.spec.keep import KeepPolicy

CASE_COUNT = 40


def _data_file() -> Path:
    shared = os.environ.get("DRYDOCK_SHARED")
    root = Path(shared) if shared else Path(__file__).resolve().parents[3] / "shared"
    return root / "conformance" / "restic-retention.json"


@cache
def _data() -> dict:
    path = _data_file()
    if not path.is_file():
        pytest.skip(
            f"restic conformance data not found at {path}; set DRYDOCK_SHARED to the folder "
            "holding conformance/restic-retention.json"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _snapshots() -> list[RetentionSnapshot]:
    return [
        RetentionSnapshot(id=s["id"], time=datetime.fromisoformat(s["time"]), tags=tuple(s["tags"]))
        for s in _data()["snapshots"]
    ]


def test_the_data_file_is_complete() -> None:
    data = _data()
    assert len(data["snapshots"]) == 103
    assert len(data["cases"]) == CASE_COUNT


@pytest.mark.parametrize("index", range(CASE_COUNT))
def test_case_keeps_what_restic_keeps(index: int) -> None:
    case = _data()["cases"][index]
    snapshots = _snapshots()
    policy = KeepPolicy.model_validate(case["policy"])
    # The data covers restic's policy step alone, where an all-zero policy keeps nothing
    # (case 0); drydock's never-empty guard is switched off for that with allow_empty.
    result = apply_policy(
        snapshots, policy, now=datetime.fromisoformat(case["now"]), allow_empty=True
    )

    got = result.kept_ids
    assert len(got) == len(case["keep"])
    assert len(set(got)) == len(got)
    twins = {a["position"]: a for a in case.get("ambiguous", [])}
    for position, expected in enumerate(case["keep"]):
        if position in twins:
            assert got[position] in twins[position]["candidates"]
            assert got[position] == twins[position]["stable_sort_id"]
        else:
            assert got[position] == expected

    assert sorted(result.removed_ids + got) == sorted(s.id for s in snapshots)
    for kept, expected in zip(result.keep, case.get("reasons", []), strict=True):
        assert kept.reasons == expected["matches"], kept.id
        assert kept.counters == expected["counters"], kept.id


def test_input_order_is_not_changed_and_twins_follow_it() -> None:
    snapshots = _snapshots()
    ids_before = [s.id for s in snapshots]
    case = _data()["cases"][18]  # tags [[foo]] keeps the s071/s072 twins, in input order
    result = apply_policy(
        snapshots,
        KeepPolicy.model_validate(case["policy"]),
        now=datetime.fromisoformat(case["now"]),
    )
    assert [s.id for s in snapshots] == ids_before
    assert result.kept_ids[:3] == ["s071", "s072", "s073"]
