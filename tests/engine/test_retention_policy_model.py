"""KeepPolicy (the spec's `keep:`) and restic durations: validation, parsing, cutoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from engine.retention_duration import (
    RetentionDuration,
    cutoff_before,
    parse_retention_duration,
)
from engine.spec.keep import KeepPolicy


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1y2m3d4h", "1y2m3d4h"),
        ("1y1d1m", "1y1m1d"),
        ("  30d ", "30d"),
        ("2d3d", "3d"),  # a repeated unit: the last value wins, as in restic
        ("0d", ""),
        ("9999y", "9999y"),
    ],
)
def test_durations_parse_to_their_canonical_spelling(text: str, canonical: str) -> None:
    assert str(parse_retention_duration(text)) == canonical


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("d", "expected a number"),
        ("-1d", "negative"),
        ("12", "no unit after the number 12"),
        ("3w", "unknown unit 'w'"),
        ("1D", "unknown unit 'D'"),
        ("1d 2h", "expected a number"),
    ],
)
def test_bad_durations_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_retention_duration(text)


def test_cutoff_uses_the_anchors_own_wall_clock() -> None:
    anchor = datetime(2024, 3, 31, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    cutoff = cutoff_before(anchor, RetentionDuration(months=1, hours=2))
    # "Feb 31" 01:00-05:00 = Mar 2 06:00Z, minus 2 hours
    assert cutoff == datetime(2024, 3, 2, 4, 0, tzinfo=UTC)


def test_cutoff_before_year_one_is_none() -> None:
    anchor = datetime(3, 1, 1, tzinfo=UTC)
    assert cutoff_before(anchor, RetentionDuration(years=5)) is None
    assert cutoff_before(anchor, RetentionDuration(days=10_000)) is None
    assert cutoff_before(anchor, RetentionDuration(hours=10**12)) is None


def test_cutoff_needs_an_aware_anchor() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        cutoff_before(datetime(2024, 1, 1), RetentionDuration(days=1))


def test_keep_policy_reads_the_spec_keys() -> None:
    policy = KeepPolicy.model_validate(
        {"last": 3, "daily": 7, "within_weekly": "1m", "tags": [["db", "full"]], "min_verified": 1}
    )
    assert policy.daily == 7
    assert policy.duration("within_weekly") == RetentionDuration(months=1)
    assert policy.duration("within") is None
    assert not policy.is_empty


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        ({"daily": -2}, "-1 \\(keep every bucket\\)"),
        ({"last": True}, "valid integer"),
        ({"weekly": "4"}, "valid integer"),
        ({"within": "2w"}, "unknown unit 'w'"),
        ({"within_daily": "-3d"}, "negative"),
        ({"tags": [[]]}, "tag set 0 is empty"),
        ({"min_verified": -1}, "min_verified must be 0 or more"),
        ({"keep_daily": 3}, "Extra inputs are not permitted"),
    ],
)
def test_keep_policy_rejects_bad_values(keys: dict, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        KeepPolicy.model_validate(keys)


@pytest.mark.parametrize(
    ("keys", "empty"),
    [
        ({}, True),
        ({"within": "0d", "daily": 0}, True),
        ({"yearly": -1}, False),
        ({"within_hourly": "1h"}, False),
        ({"tags": [["x"]]}, False),
        ({"min_verified": 1}, False),
    ],
)
def test_is_empty_means_no_rule_at_all(keys: dict, empty: bool) -> None:
    assert KeepPolicy.model_validate(keys).is_empty is empty


def test_keep_policy_is_frozen() -> None:
    policy = KeepPolicy(daily=1)
    with pytest.raises(ValidationError):
        policy.daily = 2  # type: ignore[misc]


def test_duration_lookup_refuses_unknown_names() -> None:
    with pytest.raises(KeyError):
        KeepPolicy().duration("daily")
