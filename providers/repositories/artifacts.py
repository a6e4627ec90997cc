"""Replicated artifacts: the packs, update packages and patch archives a server's home was
built from, kept content-addressed in a repository beside the snapshots that need them.

Layout, the same under a local repository's path and an S3 repository's prefix:

    .drydock-artifacts/<sha256>/archive         the file's bytes exactly as they were
    .drydock-artifacts/<sha256>/manifest.json   written last: kind, file name, size, sha256

As with snapshots, an artifact without its manifest does not exist, and the folder name is
the sha256 of the archive, so one archive is stored once per repository however many
snapshots name it. Every write and copy is read back and re-hashed before its manifest is
written; every fetch re-hashes what it read before handing the file over. The folder is
hidden, so snapshot listings never see it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from providers.repositories.base import Repository
from providers.repositories.errors import IntegrityError, RepositoryError
from providers.repositories.manifest import tool_version
from providers.repositories.ownership import ARTIFACTS_DIR
from providers.repositories.streams import CHUNK

ARTIFACTS = ARTIFACTS_DIR
ARCHIVE = "archive"
ArtifactKind = Literal["pack", "update", "patch"]
_SHA_CHARS = frozenset("0123456789abcdef")


class ArtifactInfo(BaseModel):
    """An artifact's manifest: what the archive is and the bytes it must have."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1] = 1
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    kind: ArtifactKind
    name: str
    stored: AwareDatetime
    tool_version: str


def check_digest(sha256: str) -> str:
    """`sha256` when it is 64 lower-case hex characters; raises RepositoryError otherwise."""
    if len(sha256) != 64 or not set(sha256) <= _SHA_CHARS:
        raise RepositoryError(f"artifact digest {sha256[:80]!r} is not a sha256 (64 hex "
                              "characters)")
    return sha256


DigestCache = dict[tuple[str, int, int, int], tuple[str, int]]
"""(path, size, mtime_ns, inode) -> (sha256, size): archives hashed once per run."""


def file_digest(path: Path, cache: DigestCache | None = None) -> tuple[str, int]:
    """(sha256 hex, size) of a file on the controller; with `cache`, a file whose size,
    mtime and inode are unchanged since it was hashed in this run is not read again.
    Raises OSError when it cannot be read."""
    if cache is not None:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        if key not in cache:
            cache[key] = file_digest(path)
        return cache[key]
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class ArtifactStore:
    """The artifacts of one byte repository (local or S3), through its storage primitives.

    >>> store = ArtifactStore(repo)  # doctest: +SKIP
    >>> info, stored_now = store.put_file(Path("packs/wso2am-4.2.0.zip"), kind="pack")
    """

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def _where(self, sha256: str) -> str:
        return f"repository {self.repo.name}: artifact {sha256[:12]}"

    # ----- reading ----------------------------------------------------------------------

    def get(self, sha256: str) -> ArtifactInfo | None:
        """The manifest of artifact `sha256`, or None when the repository lacks it."""
        check_digest(sha256)
        self.repo._claim(create=False)
        data = self.repo._guarded(self._where(sha256), self.repo._load_manifest, ARTIFACTS,
                                  sha256)
        if data is None:
            return None
        try:
            info = ArtifactInfo.model_validate_json(data)  # type: ignore[arg-type]
        except (ValidationError, ValueError):
            raise RepositoryError(f"{self._where(sha256)}: unreadable manifest; remove the "
                                  "artifact folder so the next backup stores it again") from None
        if info.sha256 != sha256:
            raise RepositoryError(f"{self._where(sha256)}: its manifest names "
                                  f"{info.sha256[:12]}; it was moved by hand")
        return info

    def digests(self) -> list[str]:
        """The digests of every artifact the repository holds, sorted."""
        self.repo._claim(create=False)
        try:
            return sorted(sha for _series, sha in self.repo._manifest_keys(ARTIFACTS))
        except OSError as exc:
            raise self.repo._io_error(f"repository {self.repo.name}: artifacts")(exc) from exc

    def list(self) -> list[ArtifactInfo]:
        """The manifests of every artifact, by digest."""
        return [info for sha in self.digests() if (info := self.get(sha)) is not None]

    @contextmanager
    def _stored(self, info: ArtifactInfo) -> Iterator[BinaryIO]:
        try:
            stream = self.repo._reader(ARTIFACTS, info.sha256, ARCHIVE)
        except FileNotFoundError:
            raise IntegrityError(f"{self._where(info.sha256)} ({info.name}): stored data is "
                                 "missing; copy it again from another repository") from None
        except OSError as exc:
            raise self.repo._io_error(self._where(info.sha256))(exc) from exc
        with stream:
            yield stream

    def check(self, sha256: str) -> str | None:
        """Re-hash a stored artifact: None when intact, else what is wrong."""
        info = self.get(sha256)
        if info is None:
            return "not in the repository"
        try:
            with self._stored(info) as stream:
                digest, size = _hash_stream(stream)
        except IntegrityError as exc:
            return str(exc).split(": ")[-1]
        if (digest, size) != (info.sha256, info.size):
            return f"stored bytes differ from its manifest ({size} bytes, sha256 {digest[:12]})"
        return None

    def fetch(self, sha256: str, directory: Path) -> Path:
        """Copy artifact `sha256` to a new owner-only file in `directory` on the controller,
        named as the archive was, and return its path once its sha256 and size verify.

        Raises RepositoryError when it is missing, IntegrityError when its bytes differ (the
        partial file is removed).
        """
        info = self.get(sha256)
        if info is None:
            raise RepositoryError(f"{self._where(sha256)}: not in the repository; back the "
                                  "server up again (that stores its artifacts) or copy it from "
                                  "another repository")
        name = Path(info.name).name or "archive"
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = directory / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as sink, self._stored(info) as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
            if (digest.hexdigest(), size) != (info.sha256, info.size):
                raise IntegrityError(f"{self._where(sha256)} ({info.name}): stored bytes differ "
                                     "from its manifest; copy it again from another repository")
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target

    # ----- writing ----------------------------------------------------------------------

    def put_file(self, path: Path, *, kind: ArtifactKind, sha256: str | None = None,
                 now: datetime | None = None) -> tuple[ArtifactInfo, bool]:
        """Store the controller file `path` unless the repository holds its bytes already.

        Returns its manifest and whether it was stored now. `sha256`, when the caller
        hashed the file already, saves a read. Raises RepositoryError; IntegrityError
        when the file changed while it was read or the stored copy does not read back.
        """
        digest, size = (sha256, path.stat().st_size) if sha256 else file_digest(path)
        present = self.get(digest)
        if present is not None:
            return present, False
        info = ArtifactInfo(sha256=digest, size=size, kind=kind, name=path.name,
                            stored=now or datetime.now(UTC), tool_version=tool_version())
        with path.open("rb") as source:
            self._write(info, source, origin=str(path))
        return info, True

    def copy_from(self, other: ArtifactStore, sha256: str) -> tuple[ArtifactInfo, bool]:
        """Copy artifact `sha256` from `other` unless present here; verified here before
        its manifest is written. Returns the manifest and whether it was copied now."""
        present = self.get(sha256)
        if present is not None:
            return present, False
        info = other.get(sha256)
        if info is None:
            raise RepositoryError(f"{other._where(sha256)}: not in the repository, so it "
                                  f"cannot be copied to {self.repo.name}")
        with other._stored(info) as source:
            self._write(info, source, origin=f"repository {other.repo.name}")
        return info, True

    def _write(self, info: ArtifactInfo, source: BinaryIO, *, origin: str) -> None:
        repo = self.repo
        repo._claim(create=True)
        where = self._where(info.sha256)
        with repo._open_writer(ARTIFACTS, info.sha256, ARCHIVE, raw=True) as sink:
            while chunk := source.read(CHUNK):
                sink.write(chunk)
            if (sink.hexdigest(), sink.count) != (info.sha256, info.size):
                raise IntegrityError(f"{where} ({info.name}): {origin} changed while it was "
                                     "read; run again")
        problem = None
        try:
            with self._stored(info) as stream:
                if _hash_stream(stream) != (info.sha256, info.size):
                    problem = "the stored copy does not read back"
        except IntegrityError as exc:
            problem = str(exc)
        if problem is not None:
            self._remove(info.sha256)
            raise IntegrityError(f"{where} ({info.name}): {problem}; check the repository")
        data = (info.model_dump_json(indent=2) + "\n").encode()
        repo._guarded(where, repo._save_manifest, ARTIFACTS, info.sha256, data)

    # ----- removing ---------------------------------------------------------------------

    def delete(self, sha256: str) -> bool:
        """Remove artifact `sha256`, manifest first; True when it was there."""
        present = self.get(sha256) is not None
        self._remove(sha256)
        return present

    def _remove(self, sha256: str) -> None:
        repo = self.repo
        where = self._where(sha256)
        repo._guarded(where, repo._remove_manifest, ARTIFACTS, sha256)
        repo._guarded(where, repo._remove_object, ARTIFACTS, sha256, ARCHIVE)
        repo._guarded(where, repo._remove_data, ARTIFACTS, sha256)


def referenced(facts: Iterable[dict[str, object]]) -> set[str]:
    """The artifact digests a set of snapshot source facts name."""
    found: set[str] = set()
    for item in facts:
        for ref in item.get("artifacts") or []:  # type: ignore[union-attr]
            if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
                found.add(ref["sha256"])
    return found


@contextmanager
def fetched(repo: Repository, sha256: str) -> Iterator[Path]:
    """A verified copy of artifact `sha256` of `repo` in a private temporary folder on the
    controller, removed when the block ends (see `ArtifactStore.fetch`)."""
    scratch = Path(tempfile.mkdtemp(prefix="drydock-artifact-"))
    try:
        yield ArtifactStore(repo).fetch(sha256, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _hash_stream(stream: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
