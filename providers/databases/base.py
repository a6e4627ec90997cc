"""The database engine contract: observe, dump as a part, restore, drop, query, ping.

A restore never overwrites a database that holds objects unless told to replace it, and
then it loads into a staging database first and swaps it in only when the load worked;
a database the restore created itself is dropped again when the load fails.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, SecretStr

from providers.databases.errors import DatabaseError, DatabaseNotEmpty, DatabaseUnavailable
from providers.repositories.base import PartSource, Repository
from providers.repositories.streams import CHUNK

__all__ = [
    "DatabaseEngine",
    "DatabaseError",
    "DatabaseNotEmpty",
    "DatabaseTarget",
    "DatabaseUnavailable",
    "DbObserved",
]

_DBNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}$")


class DatabaseTarget(BaseModel):
    """Where a database lives. `password` is the resolved secret; it never prints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    dbname: str | None = None
    path: Path | None = None
    password: SecretStr | None = None

    @property
    def label(self) -> str:
        """A one-line description without secrets, e.g. ``postgres 127.0.0.1:5432/apim_db``."""
        if self.path is not None:
            return f"{self.engine} {self.path}"
        return f"{self.engine} {self.host}:{self.port}/{self.dbname}"

    def with_dbname(self, dbname: str) -> DatabaseTarget:
        """The same server, another database name."""
        return self.model_copy(update={"dbname": dbname})

    def secret(self) -> str | None:
        """The password in clear, for handing to a client library or child process only."""
        return self.password.get_secret_value() if self.password is not None else None


class DbObserved(BaseModel):
    """What observing a database found."""

    model_config = ConfigDict(frozen=True)

    exists: bool
    size_bytes: int | None = None
    fingerprint: str | None = None


class DatabaseEngine(ABC):
    """One kind of database server (or file). Subclasses name themselves in `name`."""

    name: str = ""
    part_name: str = "database.dump"

    # ----- what every engine implements ------------------------------------------------

    @abstractmethod
    def ping(self, target: DatabaseTarget) -> None:
        """Check the server answers; raises DatabaseUnavailable naming host:port."""

    @abstractmethod
    def observe(self, target: DatabaseTarget) -> DbObserved:
        """Return existence, size and a fingerprint (schema + row counts)."""

    @abstractmethod
    def dump_part(self, target: DatabaseTarget) -> PartSource:
        """Return a PartSource streaming a dump; the dump runs when the part is written."""

    @abstractmethod
    def drop(self, target: DatabaseTarget) -> None:
        """Drop the database (no error when it does not exist)."""

    @abstractmethod
    def query_scalar(self, target: DatabaseTarget, sql: str) -> Any:
        """Run `sql` and return the first column of the first row (None if no rows)."""

    # ----- primitives used by the restore template ---------------------------------------

    def _exists(self, target: DatabaseTarget) -> bool:
        raise NotImplementedError

    def _is_empty(self, target: DatabaseTarget) -> bool:
        raise NotImplementedError

    def _create(self, target: DatabaseTarget) -> None:
        raise NotImplementedError

    def _load(self, target: DatabaseTarget, stream: BinaryIO) -> None:
        raise NotImplementedError

    def _swap(self, staging: DatabaseTarget, target: DatabaseTarget) -> None:
        raise NotImplementedError

    # ----- shared behaviour --------------------------------------------------------------

    def create(self, target: DatabaseTarget) -> bool:
        """Create an empty database unless it exists; True when it was created."""
        if self._exists(target):
            return False
        self._create(target)
        return True

    def checked(self, target: DatabaseTarget, *, need: tuple[str, ...]) -> DatabaseTarget:
        """Return `target` after checking the fields this engine needs are set.

        Raises DatabaseError naming the missing field or a bad database name.
        """
        for field in need:
            if getattr(target, field) is None:
                raise DatabaseError(f"{target.label}: {self.name} target needs '{field}'")
        if "dbname" in need and not _DBNAME_RE.match(target.dbname or ""):
            raise DatabaseError(
                f"{target.label}: database name {target.dbname!r} is not accepted; use "
                "letters, digits, '_', '$' or '-' (at most 63)"
            )
        return target

    def restore(
        self,
        target: DatabaseTarget,
        stream: BinaryIO,
        *,
        create: bool = True,
        replace: bool = False,
    ) -> None:
        """Load a dump `stream` (read to its end) into `target`.

        Creates the database when missing (unless `create` is False). Refuses a database
        that holds objects unless `replace`, which loads into a staging database and
        swaps it in only after the load worked. Raises DatabaseNotEmpty, DatabaseError,
        DatabaseUnavailable, or what the stream raises (e.g. IntegrityError).
        """
        self.ping(target)
        if self._exists(target):
            if self._is_empty(target):
                self._load(target, stream)
                return
            if not replace:
                raise DatabaseNotEmpty(
                    f"{target.label}: already holds objects; restore under another name "
                    "or ask to replace it"
                )
            staging = target.with_dbname(f"{(target.dbname or 'db')[:40]}_dd{secrets.token_hex(3)}")
            self._create_and_load(staging, stream)
            self._swap(staging, target)
            return
        if not create:
            raise DatabaseError(f"{target.label}: does not exist; create it or allow creating")
        self._create_and_load(target, stream)

    def _create_and_load(self, target: DatabaseTarget, stream: BinaryIO) -> None:
        self._create(target)
        try:
            self._load(target, stream)
        except BaseException:
            self.drop(target)
            raise

    def restore_from(
        self,
        repo: Repository,
        series: str,
        snapshot_id: str,
        part: str,
        target: DatabaseTarget,
        *,
        create: bool = True,
        replace: bool = False,
    ) -> None:
        """Restore a snapshot part into `target`, re-hashing the stored part first.

        A corrupted part raises IntegrityError before the database is touched. Other
        errors as for ``restore``.
        """
        repo.ensure_intact(series, snapshot_id, part)
        with repo.open_part(series, snapshot_id, part) as stream:
            self.restore(target, stream, create=create, replace=replace)
            while stream.read(CHUNK):
                pass


def unavailable(target: DatabaseTarget, exc: BaseException) -> DatabaseUnavailable:
    """Build the one-line DatabaseUnavailable for a failed connection to `target`."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return DatabaseUnavailable(
        f"{target.engine} at {target.host}:{target.port} is not reachable ({reason}); check "
        "the server is running and the host, port, user and password in the spec"
    )
