"""Turn a spec's database declaration into a connectable target, secrets resolved."""

from __future__ import annotations

from collections.abc import Callable

from engine.spec.common import SecretRef
from engine.spec.loader import LoadedSpec
from engine.spec.models import Database, RdsDatabase, SqliteDatabase
from providers.databases.base import DatabaseTarget
from providers.databases.errors import DatabaseError


def target_of(spec: LoadedSpec, db: Database,
              resolve: Callable[[SecretRef], str] | None = None) -> DatabaseTarget:
    """A DatabaseTarget for a declared database; the password only when `resolve` is given."""
    if isinstance(db, SqliteDatabase):
        return DatabaseTarget(engine="sqlite", path=spec.path(db.path))
    if isinstance(db, RdsDatabase):
        raise DatabaseError(f"RDS instance {db.identifier}: use the aws repository for RDS")
    password = resolve(db.password) if (db.password is not None and resolve) else None
    return DatabaseTarget(engine="mysql" if db.engine == "mariadb" else db.engine,
                          host=db.host, port=db.effective_port,
                          user=db.user or ("postgres" if db.engine == "postgres" else "root"),
                          dbname=db.dbname, password=password)


def target_for(spec: LoadedSpec, name: str,
               resolve: Callable[[SecretRef], str] | None = None) -> DatabaseTarget:
    """The target of the database declared as `name`."""
    db = spec.env.databases.get(name)
    if db is None:
        raise DatabaseError(f"database {name!r} is not declared in the spec")
    return target_of(spec, db, resolve)
