"""The blob store interface: named byte objects with compare-and-swap writes."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict


class Blob(BaseModel):
    """The bytes of one stored object and an opaque token naming that exact version."""

    model_config = ConfigDict(frozen=True)

    data: bytes
    version: str


class BlobStore(ABC):
    """A dumb store of named byte objects; every backend passes the same contract tests.

    Keys are relative POSIX-style names (``demo.json``, ``demo.json.history/7.json``).
    Version tokens are opaque: compare them only for equality.
    """

    @abstractmethod
    def get(self, key: str) -> Blob | None:
        """Return the object stored under `key`, or None when there is none.

        Raises StateBackendError when the storage cannot be read.
        """

    @abstractmethod
    def put(self, key: str, data: bytes, *, expect_version: str | None) -> str:
        """Store `data` under `key` only if the stored version is still `expect_version`.

        `expect_version=None` means the key must not exist yet. The write is atomic: a
        reader sees the old bytes or the new bytes, never a mix. Returns the new version.
        Raises StateConflictError when the stored version differs (or the key exists when
        None was expected), StateBackendError when the storage fails.
        """

    @abstractmethod
    def delete(self, key: str, *, expect_version: str | None = None) -> None:
        """Remove `key`; a missing key is not an error unless a version is expected.

        With `expect_version`, delete only that exact version (StateConflictError when the
        stored version differs or the key is gone). Without it, delete whatever is there.
        """

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Return every stored key starting with `prefix`, sorted."""

    @abstractmethod
    def location(self, key: str) -> str:
        """Return where `key` lives, for messages: a file path or an ``s3://`` URL."""
