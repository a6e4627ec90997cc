"""Where a site drill rehearses a recovery: the spec as seen from its scratch targets (pure).

A site drill `drills.<name>: {site: dr, into: {root: PATH}}` rehearses `recover --site
dr` without touching anything real. Its view of the spec differs in three ways only:
- every host at the site has the scratch root `<root>/PATH/<host>` (PATH relative to the
  host's root, or absolute), so rebuilt homes land there;
- every database the site's recover mapping restores into is a scratch twin beside it:
  an SQLite file `apim.db` → `apim.drill-<name>.db`, a PostgreSQL or MariaDB database
  `apim_dr` → `apim_dr_drill_<name>` on the same server;
- the site's mapping is never a failback (`failback: false`): a rehearsal restores the
  newest snapshots there, takes no final backup and stops nothing at the other site.
Planning the recovery against this view, and running its actions with it, is the
rehearsal.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath

from engine.spec.data import Drill, RdsDatabase, ServerDatabase, SqliteDatabase
from engine.spec.loader import LoadedSpec
from engine.spec.models import Environment


def _suffix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def scratch_root(host_root: str, into_root: str, host: str) -> str:
    """A host's scratch root: `<host root>/<into root>/<host>`."""
    return str(PurePosixPath(host_root) / into_root / host)


def scratch_database(db: SqliteDatabase | ServerDatabase, drill: str
                     ) -> SqliteDatabase | ServerDatabase:
    """The scratch twin of a database, beside it (same folder, same server)."""
    if isinstance(db, SqliteDatabase):
        path = PurePosixPath(db.path)
        return db.model_copy(update={"path": str(path.with_name(
            f"{path.stem}.drill-{drill}{path.suffix or '.db'}"))})
    return db.model_copy(update={"dbname": f"{db.dbname}_drill_{_suffix(drill)}"})


def site_drill(spec: LoadedSpec, name: str) -> Drill:
    """The declared site drill `name`; KeyError/ValueError when it is not one."""
    drill = spec.env.drills[name]
    if drill.site is None or drill.into.root is None:
        raise ValueError(f"drill.{name} is not a site drill")
    return drill


def scratch_view(spec: LoadedSpec, name: str) -> LoadedSpec:
    """The spec as site drill `name` rehearses it (see the module docstring).

    Raises ValueError when the drill is not a site drill or its site has no recover
    mapping, or a mapped database is an RDS instance (not rehearsed: it would create a
    real instance).
    """
    drill = site_drill(spec, name)
    env = spec.env
    mapping = env.recover.get(drill.site or "")
    if mapping is None:
        raise ValueError(f"drill.{name}: site {drill.site!r} has no recover mapping to rehearse")
    hosts = {h: (host.model_copy(update={"root": scratch_root(
        str(spec.path(host.root)), drill.into.root or ".", h)}) if host.site == drill.site
        else host) for h, host in env.hosts.items()}
    databases = dict(env.databases)
    for replacement in mapping.databases.values():
        db = databases.get(replacement)
        if isinstance(db, RdsDatabase):
            raise ValueError(f"drill.{name}: database.{replacement} is an RDS instance; a site "
                             "drill rehearses file and dump restores only")
        if db is not None:
            databases[replacement] = scratch_database(db, name)
    # a rehearsal reads the newest snapshots there: no final backup, nothing stopped
    recover = {**env.recover, drill.site or "": mapping.model_copy(update={"failback": False})}
    view: Environment = env.model_copy(update={"hosts": hosts, "databases": databases,
                                               "recover": recover})
    return replace(spec, env=view)
