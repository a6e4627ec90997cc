"""The server estate most integration tests start from: a world, no servers declared yet,
the control scripts' interpreter and stop timeout set, and every server it started on
any site stopped afterwards, whatever happened. A module that needs other spec files
overrides `estate` with a fixture of the same name that takes this one and writes them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.servers import Estate, make_estate


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Estate]:
    """An estate whose servers are all stopped afterwards, whatever happened."""
    monkeypatch.setenv("DRYDOCK_PYTHON", sys.executable)
    monkeypatch.setenv("DRYDOCK_STOP_TIMEOUT", "20")
    made = make_estate(tmp_path)
    try:
        yield made
    finally:
        made.stop_all()
