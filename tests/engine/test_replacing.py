"""`--replace` requests checked against the spec, the state and the targets (pure), and
how a change of a rebuilt resource reads."""

from __future__ import annotations

import pytest

from engine.contracts.models import Change
from engine.replacing import ReplaceRequestError, check_replacements, replace_warnings, replaced

SPEC = ["server.gw-1", "server.gw-2", "database.apim_db", "backup.apim-db"]
STATE = ["server.gw-1", "server.old"]


def test_declared_servers_are_accepted() -> None:
    assert check_replacements(["server.gw-1", "server.gw-2"], SPEC, STATE) == {
        "server.gw-1", "server.gw-2"}
    assert check_replacements(["server.gw-2"], SPEC, STATE, ["server.gw-*"]) == {"server.gw-2"}


@pytest.mark.parametrize(("address", "targets", "said"), [
    ("server.gw-3", (), "--replace server.gw-3: no such resource in the spec or the state; "
                        "did you mean server.gw-2?"),
    ("database.apim_db", (), "--replace database.apim_db: only servers can be replaced; a "
                             "database holds nothing drydock rebuilds"),
    ("backup.apim-db", (), "--replace backup.apim-db: only servers can be replaced"),
    ("server.old", (), "--replace server.old: it is removed from the spec"),
    ("server", (), "--replace server: name one resource as kind.name"),
    ("server.gw-?", (), "--replace server.gw-?: name one resource as kind.name"),
    ("server.gw-1", ("server.gw-2",), "--replace server.gw-1: not among the --target "
                                      "addresses (server.gw-2)"),
])
def test_what_cannot_be_rebuilt_is_one_line_naming_it(address: str, targets: tuple[str, ...],
                                                      said: str) -> None:
    with pytest.raises(ReplaceRequestError) as caught:
        check_replacements([address], SPEC, STATE, targets)
    assert str(caught.value).startswith(said) and "\n" not in str(caught.value)


def test_a_rebuilt_change_is_a_replacement_with_its_reason() -> None:
    same = Change(address="server.gw-1", kind="server", action="no-op", reason="up to date")
    moved = Change(address="server.gw-2", kind="server", action="update",
                   reason="update_level 10 → 14")
    new = Change(address="server.gw-3", kind="server", action="create",
                 reason="does not exist yet")
    rebuild = {"server.gw-1", "server.gw-2", "server.gw-3"}
    assert replaced(same, rebuild).action == "replace"
    assert replaced(same, rebuild).reason == "requested with --replace"
    assert replaced(moved, rebuild).reason == ("requested with --replace; also update_level "
                                               "10 → 14")
    assert replaced(new, rebuild) == new and replaced(same, set()) == same
    assert replace_warnings([new], rebuild) == [
        "--replace server.gw-3: it does not exist yet; the plan creates it"]
