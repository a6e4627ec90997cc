"""diff: desired vs recorded vs observed, data in and data out."""

from __future__ import annotations

from engine.contracts.models import DesiredResource, ObservedResource
from engine.diff import IgnoreMatcher, diff_resource, drift_resource

WANT = DesiredResource(address="server.a", kind="server", name="a",
                       attributes={"update_level": 14, "patches": ["patch0001"],
                                   "config:c.toml": "sha256:new"},
                       files={"c.toml": "x = 2\n"})


def observed(**attrs: object) -> ObservedResource:
    base = {"update_level": 14, "patches": ["patch0001"], "config:c.toml": "sha256:new"}
    return ObservedResource(address="server.a", exists=True, attributes={**base, **attrs},
                            files={"c.toml": "x = 1\n"})


def test_up_to_date_is_no_op() -> None:
    assert diff_resource("server.a", "server", WANT, None, observed()).action == "no-op"


def test_missing_is_create() -> None:
    change = diff_resource("server.a", "server", WANT, None,
                           ObservedResource(address="server.a", exists=False))
    assert change.action == "create" and change.reason == "does not exist yet"


def test_update_lists_each_attribute_and_a_unified_diff() -> None:
    change = diff_resource("server.a", "server", WANT, None,
                           observed(update_level=10, **{"config:c.toml": "sha256:old"}))
    assert change.action == "update"
    assert {d.name for d in change.diffs} == {"update_level", "config:c.toml"}
    assert "update_level 10 → 14" in change.reason
    assert "-x = 1" in change.file_diffs[0].unified and "+x = 2" in change.file_diffs[0].unified


def test_removed_from_spec_is_delete() -> None:
    change = diff_resource("server.a", "server", None, {"update_level": 3}, None)
    assert change.action == "delete" and change.diffs[0].before == 3


def test_product_change_is_replace() -> None:
    want = WANT.model_copy(update={"attributes": {**WANT.attributes, "product": "b-2"}})
    change = diff_resource("server.a", "server", want, None, observed(product="a-1"))
    assert change.action == "replace"


def test_without_refresh_the_record_stands_in() -> None:
    change = diff_resource("server.a", "server", WANT, dict(observed().attributes), None)
    assert change.action == "no-op"


def test_drift_compares_observed_with_recorded_only() -> None:
    recorded = dict(observed().attributes)
    drift = drift_resource("server.a", "server", WANT, recorded,
                           observed(**{"config:c.toml": "sha256:hand"}), IgnoreMatcher())
    assert drift is not None and [d.name for d in drift.diffs] == ["config:c.toml"]
    assert drift_resource("server.a", "server", WANT, recorded, observed(),
                          IgnoreMatcher()) is None


def test_ignore_rules_hide_noisy_attributes() -> None:
    recorded = dict(observed().attributes)
    ignore = IgnoreMatcher([("server.*", ["config:*"])])
    assert drift_resource("server.a", "server", WANT, recorded,
                          observed(**{"config:c.toml": "sha256:hand"}), ignore) is None


def test_gone_resource_is_drift() -> None:
    drift = drift_resource("server.a", "server", WANT, {"update_level": 1},
                           ObservedResource(address="server.a", exists=False), IgnoreMatcher())
    assert drift is not None and "gone" in drift.reason
