"""PostgreSQL: pg_dump -Fc streamed out, pg_restore --no-owner in, psycopg for the rest.

Only custom-format archives are restored, through pg_restore (no psql, so no client
commands such as ``\\!``), and as the target database's owner role when that role is not
a superuser: pg_restore's ``--role`` makes the session ``SET ROLE`` to it, so what the
archive's SQL may do is bounded by what the owner may do.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, BinaryIO

from providers.databases.base import DatabaseEngine, DatabaseTarget, DbObserved, unavailable
from providers.databases.errors import DatabaseError
from providers.databases.pg_archive import HEAD_BYTES, SourceDatabase, source_database
from providers.databases.process import child_env, find_tool, stream_in, stream_out
from providers.databases.sandbox import checked_pg_archive
from providers.repositories.base import PartSource

_TOOLS = "the PostgreSQL client tools (postgresql-client)"
_MAINTENANCE_DB = "postgres"
_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
)


def _settings_to_try(source: SourceDatabase | None) -> list[Any]:
    """CREATE DATABASE options, most faithful first: encoding and locale, encoding only."""
    from psycopg import sql

    if source is None:
        return []
    encoding = sql.SQL(" TEMPLATE template0 ENCODING {}").format(sql.Literal(source.encoding))
    out = []
    if source.lc_collate and source.lc_ctype:
        out.append(encoding + sql.SQL(" LC_COLLATE {} LC_CTYPE {}").format(
            sql.Literal(source.lc_collate), sql.Literal(source.lc_ctype)))
    return [*out, encoding]


class PostgresEngine(DatabaseEngine):
    """A database on a PostgreSQL server."""

    name = "postgres"
    part_name = "database.dump"
    _restore_role: str | None = None
    """While a restore runs: the non-superuser owner of its target, who the load runs as."""
    _source: SourceDatabase | None = None
    """While a restore runs: the encoding and locale of the archive's source database."""

    def _target(self, target: DatabaseTarget) -> DatabaseTarget:
        checked = self.checked(target, need=("host", "user", "dbname"))
        return checked if checked.port else checked.model_copy(update={"port": 5432})

    def _connect(self, target: DatabaseTarget, dbname: str | None = None) -> Any:
        import psycopg

        try:
            return psycopg.connect(
                host=target.host,
                port=target.port,
                user=target.user,
                password=target.secret(),
                dbname=dbname or target.dbname,
                connect_timeout=10,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            if dbname is None and "does not exist" in str(exc):
                raise DatabaseError(f"{target.label}: database does not exist") from exc
            raise unavailable(target, exc) from exc

    def _env(self, target: DatabaseTarget) -> dict[str, str]:
        secret = target.secret()
        extra = {"PGCONNECT_TIMEOUT": "10"}
        if secret is not None:
            extra["PGPASSWORD"] = secret
        return child_env(extra)

    def _conn_args(self, target: DatabaseTarget) -> list[str]:
        return [f"--host={target.host}", f"--port={target.port}", f"--username={target.user}",
                "--no-password"]

    def ping(self, target: DatabaseTarget) -> None:
        """Connect to the server's maintenance database; raises DatabaseUnavailable."""
        target = self._target(target)
        self._connect(target, _MAINTENANCE_DB).close()

    def _exists(self, target: DatabaseTarget) -> bool:
        with self._connect(target, _MAINTENANCE_DB) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (target.dbname,)
            ).fetchone()
        return row is not None

    def _is_empty(self, target: DatabaseTarget) -> bool:
        with self._connect(target) as conn:
            relations = conn.execute(
                f"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE {_USER_SCHEMAS}"
            ).fetchone()[0]
            routines = conn.execute(
                f"SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                f"WHERE {_USER_SCHEMAS}"
            ).fetchone()[0]
        return relations == 0 and routines == 0

    def observe(self, target: DatabaseTarget) -> DbObserved:
        """Existence, pg_database_size and a digest of columns, routines and row counts."""
        from psycopg import sql

        target = self._target(target)
        if not self._exists(target):
            return DbObserved(exists=False)
        with self._connect(target) as conn:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            columns = conn.execute(
                "SELECT table_schema, table_name, column_name, data_type, ordinal_position "
                "FROM information_schema.columns WHERE table_schema NOT IN "
                "('pg_catalog', 'information_schema') ORDER BY 1, 2, 5"
            ).fetchall()
            routines = conn.execute(
                f"SELECT n.nspname, p.proname, md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n "
                f"ON n.oid = p.pronamespace WHERE {_USER_SCHEMAS} ORDER BY 1, 2, 3"
            ).fetchall()
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE "
                "table_type = 'BASE TABLE' AND table_schema NOT IN "
                "('pg_catalog', 'information_schema') ORDER BY 1, 2"
            ).fetchall()
            counts = [
                [schema, table, conn.execute(
                    sql.SQL("SELECT count(*) FROM {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table))
                ).fetchone()[0]]
                for schema, table in tables
            ]
        body = json.dumps([columns, routines, counts], default=str).encode()
        return DbObserved(
            exists=True, size_bytes=int(size),
            fingerprint=f"sha256:{hashlib.sha256(body).hexdigest()}",
        )

    def dump_part(self, target: DatabaseTarget) -> PartSource:
        """A part streaming ``pg_dump -Fc`` (uncompressed; the repository compresses)."""
        target = self._target(target)

        def write(sink: BinaryIO) -> None:
            self.ping(target)
            tool = find_tool(["pg_dump"], package=_TOOLS)
            argv = [tool, "--format=custom", "--compress=0", *self._conn_args(target),
                    f"--dbname={target.dbname}"]
            stream_out(argv, self._env(target), sink, what=f"{target.label}: dump")

        return PartSource(name=self.part_name, kind="dump", write=write)

    def restore(
        self,
        target: DatabaseTarget,
        stream: BinaryIO,
        *,
        create: bool = True,
        replace: bool = False,
    ) -> None:
        """Restore a ``pg_dump -Fc`` stream; see ``DatabaseEngine.restore``.

        Refuses (DatabaseError, before the server is touched) anything that is not a
        custom-format archive.
        """
        target = self._target(target)
        head, checked = checked_pg_archive(stream, label=target.label, keep=HEAD_BYTES)
        self.ping(target)
        self._restore_role = self._owner(target) if self._exists(target) else None
        self._source = source_database(head)
        try:
            super().restore(target, checked, create=create, replace=replace)
        finally:
            self._restore_role = None
            self._source = None

    def _owner(self, target: DatabaseTarget) -> str | None:
        """The owner role of `target`'s database when it is not a superuser, else None."""
        with self._connect(target, _MAINTENANCE_DB) as conn:
            row = conn.execute(
                "SELECT r.rolname, r.rolsuper FROM pg_database d JOIN pg_roles r "
                "ON r.oid = d.datdba WHERE d.datname = %s", (target.dbname,)).fetchone()
        return None if row is None or row[1] else str(row[0])

    def _create(self, target: DatabaseTarget) -> None:
        """CREATE DATABASE, owned by the role the restore runs as (a staging copy belongs
        to the owner of the database it will replace), with the encoding and locale of the
        database the archive came from. When this server lacks that locale, with the
        encoding alone, and then with the server's defaults (pg_restore converts the text
        to whatever encoding the database has)."""
        import psycopg
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.dbname))
        if self._restore_role is not None:
            statement += sql.SQL(" OWNER {}").format(sql.Identifier(self._restore_role))
        with self._connect(target, _MAINTENANCE_DB) as conn:
            for settings in _settings_to_try(self._source):
                try:
                    conn.execute(statement + settings)
                    return
                except (psycopg.errors.InvalidParameterValue,
                        psycopg.errors.FeatureNotSupported):  # unknown or mismatched locale
                    continue
            conn.execute(statement)

    def _load(self, target: DatabaseTarget, stream: BinaryIO) -> None:
        tool = find_tool(["pg_restore"], package=_TOOLS)
        owner = self._restore_role or self._owner(target)
        role = [f"--role={owner}"] if owner is not None else []
        argv = [tool, "--no-owner", "--no-acl", "--exit-on-error", *role,
                *self._conn_args(target), f"--dbname={target.dbname}"]
        stream_in(argv, self._env(target), stream, what=f"{target.label}: restore")

    def _swap(self, staging: DatabaseTarget, target: DatabaseTarget) -> None:
        from psycopg import errors, sql

        old = target.with_dbname(f"{staging.dbname}_old")
        rename = sql.SQL("ALTER DATABASE {} RENAME TO {}")
        with self._connect(target, _MAINTENANCE_DB) as conn:
            try:
                conn.execute(rename.format(sql.Identifier(target.dbname),
                                           sql.Identifier(old.dbname)))
            except errors.ObjectInUse as exc:
                raise DatabaseError(
                    f"{target.label}: has open connections, so it cannot be replaced; the "
                    f"restored data is in database {staging.dbname}"
                ) from exc
            conn.execute(rename.format(sql.Identifier(staging.dbname),
                                       sql.Identifier(target.dbname)))
        self.drop(old)

    def drop(self, target: DatabaseTarget) -> None:
        """DROP DATABASE IF EXISTS ... WITH (FORCE) (ends sessions connected to it)."""
        from psycopg import sql

        target = self._target(target)
        with self._connect(target, _MAINTENANCE_DB) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target.dbname)))

    def query_scalar(self, target: DatabaseTarget, sql: str) -> Any:
        """Run `sql` in the database; returns the first column of the first row or None."""
        import psycopg

        target = self._target(target)
        with self._connect(target) as conn:
            try:
                row = conn.execute(sql).fetchone()  # type: ignore[call-overload]
            except psycopg.Error as exc:
                raise DatabaseError(f"{target.label}: query failed ({exc})") from exc
        return row[0] if row else None
