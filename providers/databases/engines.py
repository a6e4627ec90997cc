"""Pick the database engine of a target by name: sqlite, postgres or mysql (mariadb)."""

from __future__ import annotations

from providers.databases.base import DatabaseEngine
from providers.databases.errors import DatabaseError


def engine_for(name: str) -> DatabaseEngine:
    """Return the engine for `name`: ``sqlite``, ``postgres`` or ``mysql`` (``mariadb``).

    Raises DatabaseError for any other name.
    """
    key = name.lower()
    if key == "sqlite":
        from providers.databases.sqlite import SqliteEngine

        return SqliteEngine()
    if key in ("postgres", "postgresql"):
        from providers.databases.postgres import PostgresEngine

        return PostgresEngine()
    if key in ("mysql", "mariadb"):
        from providers.databases.mysql import MysqlEngine

        return MysqlEngine()
    raise DatabaseError(f"unknown database engine {name!r}; use sqlite, postgres or mysql")
