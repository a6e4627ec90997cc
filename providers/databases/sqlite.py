"""SQLite: online-backup API for dumps, temp file + rename for restores."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any, BinaryIO

from providers.databases.base import DatabaseEngine, DatabaseTarget, DbObserved
from providers.databases.errors import DatabaseError, DatabaseNotEmpty, DatabaseUnavailable
from providers.repositories.base import PartSource
from providers.repositories.streams import CHUNK, copy_stream


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SqliteEngine(DatabaseEngine):
    """A database in one file; `target.path` names it."""

    name = "sqlite"
    part_name = "database.sqlite"

    def _path(self, target: DatabaseTarget) -> Path:
        self.checked(target, need=("path",))
        return Path(target.path)  # type: ignore[arg-type]

    def _connect_ro(self, path: Path) -> sqlite3.Connection:
        try:
            return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise DatabaseError(f"sqlite {path}: cannot open ({exc})") from exc

    def ping(self, target: DatabaseTarget) -> None:
        """Check the file's directory exists (a missing directory is the 'server down')."""
        path = self._path(target)
        if not path.parent.is_dir():
            raise DatabaseUnavailable(
                f"sqlite {path}: directory {path.parent} does not exist; check the path"
            )

    def observe(self, target: DatabaseTarget) -> DbObserved:
        """Existence, file size and a digest of schema + row counts."""
        path = self._path(target)
        if not path.is_file():
            return DbObserved(exists=False)
        with closing(self._connect_ro(path)) as conn:
            try:
                schema = conn.execute(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master "
                    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
                ).fetchall()
                counts = [
                    (row[1], conn.execute(f"SELECT count(*) FROM {_quote(row[1])}").fetchone()[0])
                    for row in schema
                    if row[0] == "table"
                ]
            except sqlite3.Error as exc:
                raise DatabaseError(f"sqlite {path}: cannot be read ({exc})") from exc
        digest = hashlib.sha256(json.dumps([schema, counts]).encode()).hexdigest()
        return DbObserved(
            exists=True, size_bytes=path.stat().st_size, fingerprint=f"sha256:{digest}"
        )

    def dump_part(self, target: DatabaseTarget) -> PartSource:
        """A part holding a consistent copy made with SQLite's online backup API."""
        path = self._path(target)

        def write(sink: BinaryIO) -> None:
            if not path.is_file():
                raise DatabaseError(f"sqlite {path}: does not exist; nothing to back up")
            with tempfile.TemporaryDirectory(prefix="drydock-sqlite-") as scratch:
                copy = Path(scratch) / "copy.db"
                with closing(self._connect_ro(path)) as src, closing(
                    sqlite3.connect(copy)
                ) as dst:
                    try:
                        src.backup(dst)
                    except sqlite3.Error as exc:
                        raise DatabaseError(f"sqlite {path}: backup failed ({exc})") from exc
                with copy.open("rb") as handle:
                    copy_stream(handle, sink)

        return PartSource(name=self.part_name, kind="sqlite", write=write)

    def restore(
        self,
        target: DatabaseTarget,
        stream: BinaryIO,
        *,
        create: bool = True,
        replace: bool = False,
    ) -> None:
        """Write the database to a temp file beside the target, check it, rename it in.

        Refuses an existing non-empty file unless `replace`; with `create` False the
        file must already exist. Raises DatabaseNotEmpty, DatabaseError, or what the
        stream raises (the target is untouched then).
        """
        path = self._path(target)
        exists = path.exists()
        if exists and path.stat().st_size > 0 and not replace:
            raise DatabaseNotEmpty(
                f"sqlite {path}: already exists; restore to another path or ask to replace it"
            )
        if not exists and not create:
            raise DatabaseError(f"sqlite {path}: does not exist; create it or allow creating")
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.restore-{secrets.token_hex(4)}")
        try:
            with temp.open("xb") as handle:
                copy_stream(stream, handle)
                while stream.read(CHUNK):
                    pass
                handle.flush()
                os.fsync(handle.fileno())
            self._check_file(temp, path)
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            temp.replace(path)
            _fsync_dir(path.parent)
        finally:
            temp.unlink(missing_ok=True)

    def _check_file(self, temp: Path, path: Path) -> None:
        with closing(self._connect_ro(temp)) as conn:
            try:
                result = conn.execute("PRAGMA quick_check").fetchone()
            except sqlite3.Error as exc:
                raise DatabaseError(f"sqlite {path}: restored data is not a database ({exc})") \
                    from exc
        if not result or result[0] != "ok":
            raise DatabaseError(f"sqlite {path}: restored data fails quick_check ({result})")

    def create(self, target: DatabaseTarget) -> bool:
        """Create an empty SQLite file unless one exists; True when it was created."""
        path = self._path(target)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(path).close()
        _fsync_dir(path.parent)
        return True

    def drop(self, target: DatabaseTarget) -> None:
        """Remove the database file and its journal files."""
        path = self._path(target)
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def query_scalar(self, target: DatabaseTarget, sql: str) -> Any:
        """Run `sql` read-only; returns the first column of the first row or None."""
        path = self._path(target)
        if not path.is_file():
            raise DatabaseError(f"sqlite {path}: does not exist")
        with closing(self._connect_ro(path)) as conn:
            try:
                row = conn.execute(sql).fetchone()
            except sqlite3.Error as exc:
                raise DatabaseError(f"sqlite {path}: query failed ({exc})") from exc
        return row[0] if row else None
