"""Desired attributes of databases (pure)."""

from __future__ import annotations

from engine.contracts.models import DesiredResource
from engine.spec.loader import LoadedSpec
from engine.spec.models import Database, RdsDatabase, SqliteDatabase


def database_attributes(spec: LoadedSpec, db: Database) -> dict[str, object]:
    """Identity attributes of a database target (never its password)."""
    if isinstance(db, SqliteDatabase):
        return {"engine": "sqlite", "path": str(spec.path(db.path))}
    if isinstance(db, RdsDatabase):
        return {"engine": "rds", "identifier": db.identifier, "region": db.region}
    return {
        "engine": "mysql" if db.engine == "mariadb" else db.engine,
        "host": db.host,
        "port": db.effective_port,
        "dbname": db.dbname,
        "user": db.user,
    }


def desired_database(spec: LoadedSpec, name: str, db: Database) -> DesiredResource:
    """A database must exist; its content is data, not desired state."""
    return DesiredResource(
        address=f"database.{name}", kind="database", name=name,
        attributes=database_attributes(spec, db),
    )
