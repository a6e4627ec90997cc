"""Values passed across the repository interface: part sources and verification results."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict

from providers.repositories.manifest import PartKind


class PartSource(BaseModel):
    """A part to store: its name, kind, and a writer callback that streams the raw bytes.

    ``write(sink)`` writes the uncompressed bytes into `sink` and returns when done; it
    raises to fail the part (and with it the whole snapshot). A callback suits both
    ``tarfile.open(fileobj=sink, mode="w|")`` and copying a dumper's stdout, and lets the
    producer check its own exit status before the part counts as written.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: PartKind
    write: Callable[[BinaryIO], None]


class PartCheck(BaseModel):
    """The result of re-hashing one stored part."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    expected_sha256: str
    actual_sha256: str | None
    expected_size: int
    actual_size: int | None
    problem: str | None = None


class VerifyResult(BaseModel):
    """The result of verifying every part of one snapshot."""

    model_config = ConfigDict(frozen=True)

    repository: str
    series: str
    id: str
    parts: tuple[PartCheck, ...]

    @property
    def ok(self) -> bool:
        """True when every part matched its manifest."""
        return all(p.ok for p in self.parts)
