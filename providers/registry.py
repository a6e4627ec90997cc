"""The composition root: which concrete providers serve which kinds and action types.

One host pool per registry: every provider that touches hosts (servers, backups of
server paths, restores, drills, recovery, which runs through those) shares it, so a run
opens one transport per host and closes them all at its end (`Registry.close`).
"""

from __future__ import annotations

from providers.base import Provider, Registry
from providers.hosts.pool import HostPool


def default_providers(hosts: HostPool | None = None) -> list[Provider]:
    """Every provider drydock ships with, imported here and nowhere in the engine."""
    from providers.aws.provider import AwsProvider
    from providers.backups.provider import BackupProvider
    from providers.databases.resource import DatabaseProvider
    from providers.drills.provider import DrillProvider
    from providers.product.provider import CarbonProvider
    from providers.restore.provider import RestoreProvider

    pool = hosts or HostPool()
    return [CarbonProvider(pool), DatabaseProvider(), BackupProvider(pool), DrillProvider(pool),
            RestoreProvider(pool), AwsProvider()]


def default_registry(hosts: HostPool | None = None) -> Registry:
    """A registry of the default providers sharing one host pool."""
    return Registry(default_providers(hosts))
