"""The composition root: the one place the engine picks concrete providers.

Everything else in the engine sees only `engine.contracts` (the Provider/Registry
interface, the query ports, the models); commands get their registry from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.contracts.provider import Provider, Registry

if TYPE_CHECKING:
    from engine.workspace import Workspace


def default_providers() -> list[Provider]:
    """Every provider drydock ships with, imported here and nowhere in the engine."""
    from providers.aws.provider import AwsProvider
    from providers.backups.provider import BackupProvider
    from providers.databases.resource import DatabaseProvider
    from providers.drills.provider import DrillProvider
    from providers.product.provider import CarbonProvider
    from providers.restore.provider import RestoreProvider

    return [CarbonProvider(), DatabaseProvider(), BackupProvider(), DrillProvider(),
            RestoreProvider(), AwsProvider()]


def default_registry() -> Registry:
    """A registry of the default providers."""
    return Registry(default_providers())


def open_workspace(directory: Path) -> Workspace:
    """The environment in `directory` with the default providers. Raises SpecError,
    StateError."""
    from engine.workspace import open_workspace as open_with

    return open_with(directory, default_registry())
