"""Targets as data: addresses, kinds and globs select; a target selecting nothing is named."""

from __future__ import annotations

import pytest

from engine.targeting import TargetError, resolve_targets, selected, targeting_warning

KNOWN = ["server.gw-1", "server.gw-2", "server.km-1", "database.apim_db", "backup.apim-db"]


def test_an_address_a_kind_and_a_glob_each_select_what_they_name() -> None:
    assert resolve_targets(["server.gw-1"], KNOWN) == ["server.gw-1"]
    assert resolve_targets(["database"], KNOWN) == ["database.apim_db"]
    assert resolve_targets(["server.gw-*"], KNOWN) == ["server.gw-1", "server.gw-2"]
    assert resolve_targets(["*.apim*"], KNOWN) == ["backup.apim-db", "database.apim_db"]
    assert resolve_targets(["server.gw-[2]", "server.km-?"], KNOWN) == [
        "server.gw-2", "server.km-1"]


def test_no_targets_select_everything_and_a_glob_does_not_match_across_kinds() -> None:
    assert selected("server.gw-1", [])
    assert not selected("server.gw-1", ["database.*"])
    assert selected("server.gw-12", ["server.gw-*"])


def test_an_unknown_address_is_an_error_naming_it_with_a_close_match() -> None:
    with pytest.raises(TargetError) as caught:
        resolve_targets(["server.gw-1", "server.gw-9"], KNOWN)
    message = str(caught.value)
    assert message.startswith("--target server.gw-9: no such resource")
    assert "did you mean server.gw-" in message and "\n" not in message


def test_a_glob_that_matches_nothing_is_an_error_too() -> None:
    with pytest.raises(TargetError, match=r"--target 'server\.web-\*'|--target server\.web-\*"):
        resolve_targets(["server.web-*"], KNOWN)


def test_the_warning_names_the_targets_and_what_was_chosen() -> None:
    text = targeting_warning(["server.gw-*"], ["server.gw-1", "server.gw-2"])
    assert "targeting is in effect" in text
    assert "--target server.gw-*" in text and "server.gw-1, server.gw-2" in text
