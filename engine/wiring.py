"""The composition root: the one place the engine picks concrete providers.

Everything else in the engine sees only `engine.contracts` (the Provider/Registry
interface, the query ports, the models); commands get their registry from here, and the
demo gets the test kit's demo world (which drives real homes, services and databases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.contracts.provider import Provider, Registry

if TYPE_CHECKING:
    from engine.spec.loader import LoadedSpec
    from engine.workspace import Workspace
    from providers.hosts.pool import HostPool


def default_providers(hosts: HostPool | None = None) -> list[Provider]:
    """Every provider drydock ships with, imported here and nowhere in the engine.

    One host pool per registry: every provider that touches hosts (servers, backups of
    server paths, restores, drills, recovery) shares it, so a run opens one transport per
    host and closes them all at its end (`Registry.close`)."""
    from providers.aws.ec2_provider import Ec2Provider, launched_address
    from providers.aws.provider import AwsProvider
    from providers.backups.provider import BackupProvider
    from providers.databases.resource import DatabaseProvider
    from providers.drills.provider import DrillProvider
    from providers.drills.site import SiteDrillProvider
    from providers.hosts.pool import HostPool
    from providers.product.provider import CarbonProvider
    from providers.repositories.inspector import RepositoryInspector
    from providers.restore.provider import RestoreProvider

    pool = hosts or HostPool(resolve=launched_address)
    return [CarbonProvider(pool), DatabaseProvider(), BackupProvider(pool), DrillProvider(pool),
            RestoreProvider(pool), AwsProvider(), Ec2Provider(pool),
            RepositoryInspector(), SiteDrillProvider(pool)]


def default_registry(hosts: HostPool | None = None) -> Registry:
    """A registry of the default providers sharing one host pool; a site drill runs its
    rehearsal's steps through it."""
    providers = default_providers(hosts)
    registry = Registry(providers)
    for provider in providers:
        bind = getattr(provider, "bind", None)
        if callable(bind):
            bind(registry.run)
    return registry


def open_workspace(directory: Path) -> Workspace:
    """The environment in `directory` with the default providers. Raises SpecError,
    StateError."""
    from engine.workspace import open_workspace as open_with

    return open_with(directory, default_registry())


@dataclass(frozen=True)
class DemoWorld:
    """What `drydock demo` does to its world besides running drydock's own commands."""

    reset: Callable[[LoadedSpec], list[str]]
    hand_edit: Callable[[Path, str, str], None]
    stop_servers: Callable[[LoadedSpec], list[str]]
    stop_servers_under: Callable[[LoadedSpec, Path], list[str]]
    count_rows: Callable[[LoadedSpec, str, str], object]
    describe_home: Callable[[Path], list[str]]


def demo_world() -> DemoWorld:
    """The test kit's demo world (imported on first use: only the demo needs it)."""
    from testkit import demo_world as kit

    return DemoWorld(reset=kit.reset_world, hand_edit=kit.hand_edit,
                     stop_servers=kit.stop_servers, stop_servers_under=kit.stop_servers_under,
                     count_rows=kit.count_rows, describe_home=kit.describe_home)
