"""Repository fixtures: one harness per backend so the contract suite runs against each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from providers.repositories.base import Repository
from providers.repositories.local import LocalRepository


@dataclass
class RepoHarness:
    """A backend under test plus the hooks a test needs to damage it from outside."""

    make: Callable[[str], Repository]
    flip_byte: Callable[[Repository, str, str, str, int], None]
    remove_stored: Callable[[Repository, str, str, str], None]
    constructor_code: Callable[[str], str]


def _local(tmp_path: Path) -> RepoHarness:
    def make(name: str) -> Repository:
        return LocalRepository(name, tmp_path / name)

    def stored(repo: Repository, series: str, snapshot_id: str, name: str) -> Path:
        assert isinstance(repo, LocalRepository)
        return repo.path / series / snapshot_id / name

    def flip_byte(repo: Repository, series: str, snapshot_id: str, name: str, at: int) -> None:
        path = stored(repo, series, snapshot_id, name)
        data = bytearray(path.read_bytes())
        data[at] ^= 0x01
        path.write_bytes(bytes(data))

    def remove_stored(repo: Repository, series: str, snapshot_id: str, name: str) -> None:
        stored(repo, series, snapshot_id, name).unlink()

    def constructor_code(name: str) -> str:
        return (
            "from pathlib import Path\n"
            "from providers.repositories.local import LocalRepository\n"
            f"repo = LocalRepository({name!r}, Path({str(tmp_path / name)!r}))\n"
        )

    return RepoHarness(make, flip_byte, remove_stored, constructor_code)


@pytest.fixture(params=["local"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> RepoHarness:
    """Every repository backend (S3 joins this list when it exists)."""
    return {"local": _local}[request.param](tmp_path)
