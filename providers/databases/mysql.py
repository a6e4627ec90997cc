"""MySQL / MariaDB: mariadb-dump (or mysqldump) out, the mariadb (or mysql) client in.

Dumps hold one database without CREATE DATABASE / USE, so they restore under any name.
Every dump starts with MariaDB's sandbox line; a restore refuses one that does not, and
the client runs with ``--sandbox`` (a client without it is refused), so a dump edited in
a repository can never run a client command on this machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, BinaryIO

from providers.databases.base import DatabaseEngine, DatabaseTarget, DbObserved, unavailable
from providers.databases.errors import DatabaseError
from providers.databases.process import (
    child_env,
    find_tool,
    pipe_between,
    stream_in,
    stream_out,
)
from providers.databases.sandbox import SandboxedDump, checked_sql_dump, has_sandbox
from providers.repositories.base import PartSource

_TOOLS = "the MariaDB or MySQL client (mariadb-client)"
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MysqlEngine(DatabaseEngine):
    """A database (schema) on a MySQL or MariaDB server."""

    name = "mysql"
    part_name = "database.sql"

    def _target(self, target: DatabaseTarget) -> DatabaseTarget:
        checked = self.checked(target, need=("host", "user", "dbname"))
        return checked if checked.port else checked.model_copy(update={"port": 3306})

    def _connect(self, target: DatabaseTarget, *, use_db: bool = False) -> Any:
        import pymysql

        try:
            return pymysql.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.secret() or "",
                database=target.dbname if use_db else None,
                connect_timeout=10,
                autocommit=True,
                charset="utf8mb4",
            )
        except pymysql.err.OperationalError as exc:
            if use_db and exc.args and exc.args[0] == 1049:
                raise DatabaseError(f"{target.label}: database does not exist") from exc
            raise unavailable(target, exc) from exc

    def _scalar(self, target: DatabaseTarget, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        return row[0] if row else None

    def _env(self, target: DatabaseTarget) -> dict[str, str]:
        secret = target.secret()
        return child_env({"MYSQL_PWD": secret} if secret is not None else {})

    def _conn_args(self, target: DatabaseTarget) -> list[str]:
        return [f"--host={target.host}", f"--port={target.port}", f"--user={target.user}",
                "--protocol=TCP", "--default-character-set=utf8mb4",
                "--max-allowed-packet=1G"]  # the client's limit; rows of large blobs

    def _dump_argv(self, target: DatabaseTarget) -> list[str]:
        tool = find_tool(["mariadb-dump", "mysqldump"], package=_TOOLS)
        return [tool, *self._conn_args(target), "--single-transaction", "--routines",
                "--triggers", "--events", "--hex-blob", "--no-tablespaces", "--skip-comments",
                target.dbname or ""]

    def _client_argv(self, target: DatabaseTarget) -> list[str]:
        tool = find_tool(["mariadb", "mysql"], package=_TOOLS)
        if not has_sandbox(tool):
            raise DatabaseError(
                f"{target.label}: {tool} has no --sandbox mode, so a dump could run client "
                "commands; install the MariaDB client (mariadb-client 10.5.25 or later)")
        return [tool, *self._conn_args(target), "--batch", "--sandbox", target.dbname or ""]

    def ping(self, target: DatabaseTarget) -> None:
        """Connect to the server; raises DatabaseUnavailable naming host:port."""
        self._connect(self._target(target)).close()

    def _exists(self, target: DatabaseTarget) -> bool:
        return self._scalar(
            target, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            (target.dbname,),
        ) is not None

    def _is_empty(self, target: DatabaseTarget) -> bool:
        objects = self._scalar(
            target,
            "SELECT (SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s)"
            " + (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s)"
            " + (SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s)",
            (target.dbname,) * 3,
        )
        return int(objects) == 0

    def observe(self, target: DatabaseTarget) -> DbObserved:
        """Existence, data+index length and a digest of columns, routines and row counts."""
        target = self._target(target)
        if not self._exists(target):
            return DbObserved(exists=False)
        db = target.dbname
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM "
                "information_schema.TABLES WHERE TABLE_SCHEMA = %s", (db,))
            size = int(cur.fetchone()[0])
            cur.execute(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, ORDINAL_POSITION FROM "
                "information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY 1, 4", (db,))
            columns = cur.fetchall()
            cur.execute(
                "SELECT ROUTINE_TYPE, ROUTINE_NAME, MD5(ROUTINE_DEFINITION) FROM "
                "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s ORDER BY 1, 2", (db,))
            routines = cur.fetchall()
            cur.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                "AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", (db,))
            counts = []
            for (table,) in cur.fetchall():
                cur.execute(f"SELECT count(*) FROM {_ident(db or '')}.{_ident(table)}")
                counts.append([table, cur.fetchone()[0]])
        body = json.dumps([columns, routines, counts], default=str).encode()
        return DbObserved(
            exists=True, size_bytes=size,
            fingerprint=f"sha256:{hashlib.sha256(body).hexdigest()}",
        )

    def dump_part(self, target: DatabaseTarget) -> PartSource:
        """A part streaming an SQL dump of one database (no CREATE DATABASE / USE)."""
        target = self._target(target)

        def write(sink: BinaryIO) -> None:
            self.ping(target)
            dump = SandboxedDump(sink, preamble=self._defaults_statement(target))
            stream_out(self._dump_argv(target), self._env(target), dump,  # type: ignore[arg-type]
                       what=f"{target.label}: dump")
            dump.finish()

        return PartSource(name=self.part_name, kind="dump", write=write)

    def _defaults(self, target: DatabaseTarget) -> tuple[str, str]:
        """The database's default character set and collation, as the server names them."""
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                        "information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (target.dbname,))
            row = cur.fetchone()
        if row is None:
            raise DatabaseError(f"{target.label}: database does not exist")
        charset, collation = str(row[0]), str(row[1])
        if not (_NAME.fullmatch(charset) and _NAME.fullmatch(collation)):
            raise DatabaseError(f"{target.label}: unexpected character set {charset!r} or "
                                f"collation {collation!r}")
        return charset, collation

    def _defaults_statement(self, target: DatabaseTarget) -> bytes:
        """`ALTER DATABASE` (of the database the client is in) to the source's defaults, so
        a restore under any name keeps them, and routines created after it too."""
        charset, collation = self._defaults(target)
        return f"ALTER DATABASE CHARACTER SET {charset} COLLATE {collation};\n".encode()

    def restore(
        self,
        target: DatabaseTarget,
        stream: BinaryIO,
        *,
        create: bool = True,
        replace: bool = False,
    ) -> None:
        """Restore an SQL dump stream; see ``DatabaseEngine.restore``.

        Refuses (DatabaseError, before the server is touched) a dump whose first line is
        not the sandbox line, and a client without ``--sandbox``.
        """
        target = self._target(target)
        self._client_argv(target)
        checked = checked_sql_dump(stream, label=target.label)
        super().restore(target, checked, create=create, replace=replace)

    def _create(self, target: DatabaseTarget) -> None:
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {_ident(target.dbname or '')} "
                        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def _load(self, target: DatabaseTarget, stream: BinaryIO) -> None:
        stream_in(self._client_argv(target), self._env(target), stream,
                  what=f"{target.label}: restore")

    def _swap(self, staging: DatabaseTarget, target: DatabaseTarget) -> None:
        """Replace `target` with the loaded staging copy (MySQL cannot rename databases),
        created with the staging copy's defaults (which the dump set)."""
        charset, collation = self._defaults(staging)
        self.drop(target)
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {_ident(target.dbname or '')} "
                        f"CHARACTER SET {charset} COLLATE {collation}")
        try:
            pipe_between(self._dump_argv(staging), self._client_argv(target),
                         self._env(target), what=f"{target.label}: replace")
        except DatabaseError as exc:
            raise DatabaseError(
                f"{exc}; the restored data is kept in database {staging.dbname}"
            ) from exc
        self.drop(staging)

    def drop(self, target: DatabaseTarget) -> None:
        """DROP DATABASE IF EXISTS."""
        target = self._target(target)
        with self._connect(target) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {_ident(target.dbname or '')}")

    def query_scalar(self, target: DatabaseTarget, sql: str) -> Any:
        """Run `sql` in the database; returns the first column of the first row or None."""
        import pymysql

        target = self._target(target)
        with self._connect(target, use_db=True) as conn, conn.cursor() as cur:
            try:
                cur.execute(sql)
            except pymysql.err.MySQLError as exc:
                raise DatabaseError(f"{target.label}: query failed ({exc})") from exc
            row = cur.fetchone()
        return row[0] if row else None
