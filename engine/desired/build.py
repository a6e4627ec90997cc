"""Assemble every resource's desired state from a loaded spec (pure)."""

from __future__ import annotations

from engine.contracts.models import DesiredResource
from engine.desired.backups import desired_backup
from engine.desired.data import desired_database
from engine.desired.servers import TemplateCache, desired_server
from engine.spec.loader import LoadedSpec


def build_desired(spec: LoadedSpec) -> dict[str, DesiredResource]:
    """Desired resources keyed by address, in spec order (servers, then databases).

    Raises DesiredStateError when a config template cannot be rendered.
    """
    out: dict[str, DesiredResource] = {}
    cache = TemplateCache()
    for name, server in spec.env.servers.items():
        res = desired_server(spec, name, server, cache)
        out[res.address] = res
    for name, db in spec.env.databases.items():
        res = desired_database(spec, name, db)
        out[res.address] = res
    for name, policy in spec.env.backups.items():
        res = desired_backup(spec, name, policy)
        out[res.address] = res
    return out
