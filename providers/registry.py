"""The composition root: which concrete providers serve which kinds and action types."""

from __future__ import annotations

from providers.base import Provider, Registry


def default_providers() -> list[Provider]:
    """Every provider drydock ships with, imported here and nowhere in the engine."""
    from providers.aws.ec2_provider import Ec2Provider
    from providers.aws.provider import AwsProvider
    from providers.backups.provider import BackupProvider
    from providers.databases.resource import DatabaseProvider
    from providers.drills.provider import DrillProvider
    from providers.product.provider import CarbonProvider
    from providers.restore.provider import RestoreProvider

    return [CarbonProvider(), DatabaseProvider(), BackupProvider(), DrillProvider(),
            RestoreProvider(), AwsProvider(), Ec2Provider()]


def default_registry() -> Registry:
    """A registry of the default providers."""
    return Registry(default_providers())
