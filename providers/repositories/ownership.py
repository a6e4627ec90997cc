"""What marks a repository path and a snapshot folder as drydock's own, and who may touch them.

A repository's root holds ``.drydock-repository`` (its name and a format version), written
on first use; a path that holds other things and no marker is refused. Every snapshot
folder gets ``.drydock-writing`` before its first part and loses it once the manifest is
written, so an interrupted write is recognisable as drydock's; a folder with neither a
manifest nor that marker belongs to somebody else and is never touched.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import MANIFEST_NAME, ManifestError, check_name

REPOSITORY_MARKER = ".drydock-repository"
WRITING_MARKER = ".drydock-writing"
ARTIFACTS_DIR = ".drydock-artifacts"
"""The hidden folder of replicated artifacts (see ``providers.repositories.artifacts``)."""
MARKER_FORMAT = 1
TEMP_MARK = ".tmp-"


class RepositoryMarker(BaseModel):
    """The content of ``.drydock-repository``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: int
    repository: str
    created: AwareDatetime


class WritingMarker(BaseModel):
    """The content of ``.drydock-writing``: which write began this snapshot folder."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: int = MARKER_FORMAT
    repository: str
    series: str
    id: str
    started: AwareDatetime
    host: str
    pid: int


class Leftover(BaseModel):
    """A snapshot folder drydock began writing that never got its manifest."""

    model_config = ConfigDict(frozen=True)

    series: str
    id: str
    modified: AwareDatetime
    writer_gone: bool = False
    """Its marker names a process of this machine that no longer runs: a killed write."""


def writer_gone(data: bytes) -> bool:
    """True when in-progress marker bytes name a process of this host that has ended."""
    try:
        marker = WritingMarker.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        return False
    if marker.host != socket.gethostname() or marker.pid <= 0:
        return False
    try:
        os.kill(marker.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def repository_marker(name: str) -> bytes:
    """The marker bytes for a new repository called `name`."""
    body = RepositoryMarker(format=MARKER_FORMAT, repository=name, created=datetime.now(UTC))
    return (body.model_dump_json(indent=2) + "\n").encode()


def writing_marker(name: str, series: str, snapshot_id: str) -> bytes:
    """The in-progress marker bytes for one snapshot folder."""
    body = WritingMarker(repository=name, series=series, id=snapshot_id,
                         started=datetime.now(UTC), host=socket.gethostname(), pid=os.getpid())
    return (body.model_dump_json(indent=2) + "\n").encode()


def check_marker(data: bytes, *, name: str, where: str) -> None:
    """Accept a repository marker naming `name`; raises RepositoryError otherwise."""
    try:
        marker = RepositoryMarker.model_validate(json.loads(data))
    except (ValueError, ValidationError):
        raise RepositoryError(
            f"repository {name}: {where}/{REPOSITORY_MARKER} is not a drydock repository "
            "marker; point the repository at another path") from None
    if marker.format > MARKER_FORMAT:
        raise RepositoryError(
            f"repository {name}: {where} is marked with format {marker.format}, newer than "
            f"this drydock understands ({MARKER_FORMAT}); upgrade drydock")
    if marker.repository != name:
        raise RepositoryError(
            f"repository {name}: {where} belongs to repository {marker.repository!r}; two "
            f"repositories cannot share a path (after a rename, set \"repository\" in "
            f"{REPOSITORY_MARKER} to {name!r})")


def foreign(name: str, where: str, entry: str) -> RepositoryError:
    """The refusal for an unmarked path that holds something that is not drydock's."""
    return RepositoryError(
        f"repository {name}: {where} already holds {entry!r} and is not a drydock repository "
        f"(no {REPOSITORY_MARKER}); point the repository at an empty or new path")


def is_snapshot_name(value: str) -> bool:
    """True for a valid series or snapshot id name (never a hidden entry)."""
    if value.startswith("."):
        return False
    try:
        check_name(value, what="entry")
    except ManifestError:
        return False
    return True


def is_own_file(name: str) -> bool:
    """True for a file name drydock writes inside a snapshot folder (parts, manifest,
    in-progress marker, and the temp files of its atomic writes)."""
    if name in (MANIFEST_NAME, WRITING_MARKER):
        return True
    if name.startswith(".") and TEMP_MARK in name:
        return True
    return name.endswith(".zst") and is_snapshot_name(name[: -len(".zst")])
