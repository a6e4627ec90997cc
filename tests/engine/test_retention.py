"""apply_policy and protect: what restic's suite does not cover, and drydock's own rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from engine.retention import (
    EMPTY_POLICY,
    LAST_OF_SERIES,
    RetentionSnapshot,
    apply_policy,
    protect,
)
from engine.spec.keep import KeepPolicy

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
IST = timezone(timedelta(hours=5, minutes=30))
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
OLDEST = RetentionSnapshot(id="oldest", time=datetime(2020, 1, 1, tzinfo=UTC))
"""An old snapshot in a bucket of its own, so the "oldest" rule does not hide a result."""


def snap(sid: str, when: str, **flags: object) -> RetentionSnapshot:
    return RetentionSnapshot.model_validate({"id": sid, "time": when, **flags})


def kept(snapshots: list[RetentionSnapshot], policy: KeepPolicy, **options: object) -> list[str]:
    now = options.pop("now", FAR_FUTURE)
    return apply_policy(snapshots, policy, now=now, **options).kept_ids


# --- durations and cutoffs -------------------------------------------------------------


def test_month_end_rolls_forward_like_go_adddate() -> None:
    # Anchor Mar 31; "1m" is "Feb 31" = Mar 3 in 2023 (Feb has 28 days). A clamping
    # implementation would put the cutoff on Feb 28 and keep s-mar02 as well.
    series = [
        snap("anchor", "2023-03-31T12:00:00Z"),
        snap("mar03-after", "2023-03-03T12:00:01Z"),
        snap("mar03-on", "2023-03-03T12:00:00Z"),
        snap("mar02", "2023-03-02T12:00:00Z"),
    ]
    result = apply_policy(series, KeepPolicy(within="1m"), now=FAR_FUTURE)
    assert result.kept_ids == ["anchor", "mar03-after"]
    assert "cutoff 2023-03-03T12:00:00+00:00" in result.remove[0].reason


def test_month_end_rollover_in_a_leap_year() -> None:
    # 2024: "Feb 31" = Mar 2.
    series = [
        snap("anchor", "2024-03-31T00:00:00Z"),
        snap("mar02-after", "2024-03-02T00:00:01Z"),
        snap("mar02-on", "2024-03-02T00:00:00Z"),
    ]
    assert kept(series, KeepPolicy(within="1m")) == ["anchor", "mar02-after"]


def test_hours_come_off_after_the_calendar_part() -> None:
    series = [
        snap("anchor", "2024-05-10T12:00:00Z"),
        snap("inside", "2024-05-09T11:00:01Z"),
        snap("on-cutoff", "2024-05-09T11:00:00Z"),
    ]
    assert kept(series, KeepPolicy(within="1d1h")) == ["anchor", "inside"]


def test_a_snapshot_exactly_on_a_window_cutoff_is_outside_the_window() -> None:
    series = [
        snap("anchor", "2024-05-10T12:00:00Z"),
        snap("on-cutoff", "2024-05-03T12:00:00Z"),
        snap("older", "2024-05-01T12:00:00Z"),
    ]
    result = apply_policy(series, KeepPolicy(within_daily="7d"), now=FAR_FUTURE)
    assert result.kept_ids == ["anchor"]
    assert result.remove[0].reason.startswith("outside daily within 7d (cutoff 2024-05-03T12")


def test_a_window_reaching_before_year_one_covers_everything() -> None:
    series = [snap("new", "2024-01-01T00:00:00Z"), snap("old", "0005-01-01T00:00:00Z")]
    assert kept(series, KeepPolicy(within="9999y")) == ["new", "old"]


def test_durations_are_measured_from_the_newest_snapshot_before_now() -> None:
    series = [
        snap("future", "2024-07-01T00:00:00Z"),
        snap("newest-past", "2024-05-31T12:00:00Z"),
        snap("day-before", "2024-05-30T12:00:01Z"),
        snap("older", "2024-05-30T00:00:00Z"),
    ]
    now = datetime(2024, 6, 1, tzinfo=UTC)
    result = apply_policy(series, KeepPolicy(within="1d"), now=now)
    assert result.anchor == datetime(2024, 5, 31, 12, tzinfo=UTC)
    assert result.kept_ids == ["future", "newest-past", "day-before"]


def test_a_snapshot_at_now_is_not_the_anchor() -> None:
    series = [snap("at-now", "2024-06-01T00:00:00Z"), snap("before", "2024-05-20T00:00:00Z")]
    result = apply_policy(series, KeepPolicy(within="1d"), now=datetime(2024, 6, 1, tzinfo=UTC))
    assert result.anchor == datetime(2024, 5, 20, tzinfo=UTC)
    assert result.kept_ids == ["at-now", "before"]


def test_when_every_snapshot_is_in_the_future_every_window_covers_all() -> None:
    series = [snap("a", "2030-01-02T00:00:00Z"), snap("b", "2030-01-01T00:00:00Z")]
    result = apply_policy(series, KeepPolicy(within="1h"), now=datetime(2024, 1, 1, tzinfo=UTC))
    assert result.anchor is None
    assert result.kept_ids == ["a", "b"]


# --- buckets, offsets and zones --------------------------------------------------------


def test_buckets_follow_each_snapshots_own_offset_by_default() -> None:
    # Both are 1 May in UTC, but 1 and 2 May on the Indian wall clock they were taken with.
    series = [
        RetentionSnapshot(id="late", time=datetime(2024, 5, 2, 1, 0, tzinfo=IST)),
        RetentionSnapshot(id="early", time=datetime(2024, 5, 1, 23, 30, tzinfo=IST)),
        OLDEST,
    ]
    assert kept(series, KeepPolicy(daily=-1)) == ["late", "early", "oldest"]
    assert kept(series, KeepPolicy(daily=-1), tz=UTC) == ["late", "oldest"]


def test_sort_is_by_instant_not_by_wall_clock() -> None:
    series = [
        snap("ist-earlier-instant", "2024-05-01T10:00:00+05:30"),  # 04:30Z
        snap("utc-later-instant", "2024-05-01T05:00:00Z"),
    ]
    assert kept(series, KeepPolicy(last=-1)) == ["utc-later-instant", "ist-earlier-instant"]


def test_same_utc_day_but_different_london_days_after_the_spring_change() -> None:
    # After the 2024-03-31 switch London is UTC+1: 23:30Z is already 1 April there.
    series = [snap("c", "2024-03-31T23:30:00Z"), snap("d", "2024-03-31T22:30:00Z"), OLDEST]
    assert kept(series, KeepPolicy(daily=-1), tz=LONDON) == ["c", "d", "oldest"]
    assert kept(series, KeepPolicy(daily=-1)) == ["c", "oldest"]


def test_different_utc_days_but_one_new_york_day_across_the_dst_change() -> None:
    # 10 March 2024 is a 23-hour day in New York: 01:30 EST and 23:30 EDT.
    series = [snap("h", "2024-03-11T03:30:00Z"), snap("g", "2024-03-10T06:30:00Z"), OLDEST]
    assert kept(series, KeepPolicy(daily=-1), tz=NEW_YORK) == ["h", "oldest"]
    assert kept(series, KeepPolicy(daily=-1)) == ["h", "g", "oldest"]


def test_the_repeated_autumn_hour_is_one_hourly_bucket() -> None:
    # 2024-10-27: 01:30 BST (00:30Z) and 01:30 GMT (01:30Z) share London's wall-clock hour.
    series = [snap("gmt", "2024-10-27T01:30:00Z"), snap("bst", "2024-10-27T00:30:00Z")]
    result = apply_policy(series, KeepPolicy(hourly=-1), now=FAR_FUTURE, tz=LONDON)
    assert result.kept_ids == ["gmt", "bst"]  # the oldest rule keeps the second one
    assert result.keep[1].reasons == ["oldest hourly snapshot"]
    series.append(snap("older", "2024-10-26T00:30:00Z"))
    result = apply_policy(series, KeepPolicy(hourly=-1), now=FAR_FUTURE, tz=LONDON)
    assert result.kept_ids == ["gmt", "older"]
    assert result.remove[0].reason == "hourly bucket 2024-10-27T01 already kept by gmt"


def test_windows_count_calendar_days_in_the_policy_zone() -> None:
    # One London calendar day before 31 Mar 12:00 BST is 30 Mar 12:00 GMT: 23 hours.
    series = [snap("anchor", "2024-03-31T11:00:00Z"), snap("x", "2024-03-30T11:30:00Z")]
    assert kept(series, KeepPolicy(within="1d"), tz=LONDON) == ["anchor"]
    assert kept(series, KeepPolicy(within="1d")) == ["anchor", "x"]


def test_weekly_buckets_use_the_iso_week_year() -> None:
    # 2024-12-30 is in ISO week 2025-W01, with 2025-01-02; 2024-12-29 is 2024-W52.
    series = [
        snap("jan02", "2025-01-02T00:00:00Z"),
        snap("dec30", "2024-12-30T00:00:00Z"),
        snap("dec29", "2024-12-29T00:00:00Z"),
        snap("dec28", "2024-12-28T00:00:00Z"),
    ]
    result = apply_policy(series, KeepPolicy(weekly=2), now=FAR_FUTURE)
    assert result.kept_ids == ["jan02", "dec29"]
    assert result.remove[0].reason == "weekly bucket 2025-W01 already kept by jan02"
    assert result.remove[1].reason == "beyond weekly 2"


# --- series shapes ---------------------------------------------------------------------


def test_an_empty_series_gives_an_empty_result() -> None:
    result = apply_policy([], KeepPolicy(last=3), now=FAR_FUTURE)
    assert result.keep == [] and result.remove == [] and result.anchor is None


def test_duplicate_ids_are_refused() -> None:
    series = [snap("a", "2024-01-01T00:00:00Z"), snap("a", "2024-01-02T00:00:00Z")]
    with pytest.raises(ValueError, match="'a' appears twice"):
        apply_policy(series, KeepPolicy(last=1), now=FAR_FUTURE)


def test_a_naive_now_or_snapshot_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        apply_policy([], KeepPolicy(last=1), now=datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        RetentionSnapshot(id="x", time=datetime(2024, 1, 1))


def test_the_tag_set_with_an_empty_tag_matches_untagged_snapshots() -> None:
    series = [
        snap("tagged", "2024-01-03T00:00:00Z", tags=["db"]),
        snap("plain", "2024-01-02T00:00:00Z"),
    ]
    result = apply_policy(series, KeepPolicy(tags=[[""]]), now=FAR_FUTURE)
    assert result.kept_ids == ["plain"]
    assert result.keep[0].reasons == ["has tags []"]
    assert result.remove[0].reason == "tags match none of []"


# --- drydock's additions ----------------------------------------------------------------


def _week(**flags_by_id: dict) -> list[RetentionSnapshot]:
    return [
        snap(f"d{day}", f"2024-05-0{day}T03:00:00Z", **flags_by_id.get(f"d{day}", {}))
        for day in range(7, 0, -1)
    ]


def test_pinned_snapshots_are_always_kept() -> None:
    series = _week(d1={"pinned": True}, d7={"pinned": True})
    result = apply_policy(series, KeepPolicy(last=2), now=FAR_FUTURE)
    assert result.kept_ids == ["d7", "d6", "d1"]
    assert result.keep[0].reasons == ["last snapshot", "pinned"]
    assert result.keep[2].reasons == ["pinned"]


def test_min_verified_keeps_the_newest_verified_snapshots() -> None:
    verified = {"verified": True}
    series = _week(d5=verified, d3=verified, d2=verified)
    result = apply_policy(series, KeepPolicy(last=1, min_verified=2), now=FAR_FUTURE)
    assert result.kept_ids == ["d7", "d5", "d3"]
    assert result.keep[1].reasons == ["min_verified"]
    removed = {r.id: r.reason for r in result.remove}
    assert removed["d2"] == "beyond last 1; beyond min_verified 2"
    assert removed["d4"] == "beyond last 1"


def test_a_policy_that_keeps_nothing_still_keeps_the_newest_snapshot() -> None:
    series = _week()
    result = apply_policy(series, KeepPolicy(tags=[["never"]]), now=FAR_FUTURE)
    assert result.kept_ids == ["d7"]
    assert result.keep[0].reasons == [LAST_OF_SERIES]
    assert result.keep[0].counters == {
        "last": 0, "hourly": 0, "daily": 0, "weekly": 0, "monthly": 0, "yearly": 0,
    }
    assert len(result.remove) == 6


def test_an_empty_policy_empties_the_series_only_when_allowed() -> None:
    series = _week(d3={"pinned": True})
    assert kept(series, KeepPolicy()) == ["d3"]
    assert kept(_week(), KeepPolicy()) == ["d7"]
    result = apply_policy(_week(), KeepPolicy(), now=FAR_FUTURE, allow_empty=True)
    assert result.keep == []
    assert {r.reason for r in result.remove} == {EMPTY_POLICY}
    # allow_empty does not apply to a policy with rules that happen to keep nothing
    assert kept(_week(), KeepPolicy(tags=[["never"]]), allow_empty=True) == ["d7"]


def test_removal_reasons_name_every_rule() -> None:
    late = snap("d1-late", "2024-05-01T09:00:00Z")
    series = [*_week(), late, snap("apr30", "2024-04-30T00:00:00Z")]
    result = apply_policy(series, KeepPolicy(last=2, daily=6), now=FAR_FUTURE)
    removed = {r.id: r.reason for r in result.remove}
    assert result.kept_ids == ["d7", "d6", "d5", "d4", "d3", "d2"]
    assert removed["d1-late"] == "beyond last 2; beyond daily 6"
    result = apply_policy(series, KeepPolicy(last=1, daily=-1), now=FAR_FUTURE)
    removed = {r.id: r.reason for r in result.remove}
    assert removed["d1"] == "beyond last 1; daily bucket 2024-05-01 already kept by d1-late"


def test_counters_report_what_each_rule_has_left() -> None:
    result = apply_policy(_week(), KeepPolicy(last=2, daily=-1), now=FAR_FUTURE)
    assert [k.counters["last"] for k in result.keep] == [1, 0, 0, 0, 0, 0, 0]
    assert {k.counters["daily"] for k in result.keep} == {-1}


# --- protect -----------------------------------------------------------------------------


def test_protect_moves_snapshots_back_with_their_reason_in_order() -> None:
    result = apply_policy(_week(), KeepPolicy(last=1, weekly=-1), now=FAR_FUTURE)
    assert result.kept_ids == ["d7", "d5", "d1"]
    protected = protect(
        result,
        {"d4": "not yet copied to dr-vault", "d2": "restore drill running", "d7": "x", "zz": "y"},
    )
    assert protected.kept_ids == ["d7", "d5", "d4", "d2", "d1"]
    assert protected.removed_ids == ["d6", "d3"]
    by_id = {k.id: k for k in protected.keep}
    assert by_id["d4"].reasons == ["not yet copied to dr-vault"]
    assert by_id["d4"].counters == {}
    assert by_id["d7"].reasons == result.keep[0].reasons
    assert result.kept_ids == ["d7", "d5", "d1"]  # the original is unchanged


def test_protect_with_nothing_to_move_returns_the_result() -> None:
    result = apply_policy(_week(), KeepPolicy(last=1), now=FAR_FUTURE)
    assert protect(result, {"d7": "already kept"}) is result
