"""The composition root: the one place the engine picks concrete providers.

Everything else in the engine sees only `engine.contracts` (the Provider/Registry
interface, the query ports, the models); commands get their registry from here, and the
demo gets the test kit's demo world (which drives real homes, services and databases).

Providers are imported on first use. A no-op plan of servers needs the server provider
only; importing every provider (AWS, backups, drills, restores, repositories) cost about a
third of a second of CPU on each run. `LazyProvider` stands in for one provider: it
declares the kinds, action types and query ports of its `Entry` (so the registry routes
without importing anything) and builds the real provider the first time something is
asked of it. A test checks that every entry declares exactly what its class claims.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.contracts.provider import (
    ActionContext,
    ActionOutcome,
    ObserveRequest,
    Provider,
    Registry,
)

if TYPE_CHECKING:
    from engine.contracts.models import Action, ObservedResource
    from engine.spec.loader import LoadedSpec
    from engine.workspace import Workspace
    from providers.hosts.pool import HostPool


@dataclass(frozen=True)
class Entry:
    """One provider: `module:Class`, what it claims, whether it takes the host pool."""

    target: str
    kinds: tuple[str, ...] = ()
    action_types: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    """Names of the query ports (classes of `engine.contracts.queries`) it serves."""
    hosts: bool = True


SERVER_ACTIONS = (
    "server.backup", "server.restore-backup", "server.stop", "server.start",
    "server.health", "server.patch.add", "server.patch.remove", "server.config",
    "server.install", "server.update", "server.replace-pack", "server.swap-back",
    "server.downgrade", "server.archive", "server.restore-patches", "server.preflight",
)

ENTRIES: tuple[Entry, ...] = (
    Entry("providers.product.provider:CarbonProvider", ("server",), SERVER_ACTIONS,
          ("ChangeBackupPort",)),
    Entry("providers.databases.resource:DatabaseProvider", ("database",),
          ("database.create", "database.forget"), hosts=False),
    Entry("providers.backups.provider:BackupProvider", ("backup",),
          ("backup.create", "backup.copy", "backup.prune", "backup.verify", "backup.catalog",
           "backup.pin", "backup.cleanup", "backup.prune-artifacts"), ("CatalogPort",)),
    Entry("providers.drills.provider:DrillProvider", ("drill",), ("drill.run", "drill.verdict")),
    Entry("providers.restore.provider:RestoreProvider", (),
          ("restore.database", "restore.paths"),
          ("SnapshotPort", "ServerFilesPort", "PackPort")),
    Entry("providers.aws.provider:AwsProvider", (), ("rds.restore", "rds.delete-instance"),
          hosts=False),
    Entry("providers.aws.ec2_provider:Ec2Provider", ("host",), ("ec2.launch",)),
    Entry("providers.repositories.inspector:RepositoryInspector", (), (), ("ContentsPort",),
          hosts=False),
    Entry("providers.drills.site:SiteDrillProvider", (), ("drill.site",)),
)


def provider_class(entry: Entry) -> type[Provider]:
    module, _, name = entry.target.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyProvider(Provider):
    """Routes like its entry's provider; imports and builds it on first use."""

    def __init__(self, entry: Entry, hosts: HostPool | None) -> None:
        self.entry = entry
        self.kinds = entry.kinds  # type: ignore[misc]
        self.action_types = entry.action_types  # type: ignore[misc]
        from engine.contracts import queries

        self.serves = tuple(getattr(queries, name) for name in entry.ports)
        self._hosts = hosts
        self._real: Provider | None = None
        self._bound: Callable[..., Any] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._real is not None

    def real(self) -> Provider:
        """The provider itself (imported and built once, thread-safe)."""
        if self._real is None:
            with self._lock:
                if self._real is None:
                    cls = provider_class(self.entry)
                    made = cls(self._hosts) if self.entry.hosts else cls()  # type: ignore[call-arg]
                    if self._bound is not None and callable(getattr(made, "bind", None)):
                        made.bind(self._bound)  # type: ignore[attr-defined]
                    self._real = made
        return self._real

    def bind(self, run_step: Callable[..., Any]) -> None:
        """Hand the registry's `run` to a provider that has `bind` (now or when built)."""
        self._bound = run_step
        if self._real is not None and callable(getattr(self._real, "bind", None)):
            self._real.bind(run_step)  # type: ignore[attr-defined]

    def observe(self, request: ObserveRequest) -> ObservedResource:
        return self.real().observe(request)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        return self.real().run(action, ctx)

    def close(self) -> None:
        if self._real is not None:
            self._real.close()

    def __getattr__(self, name: str) -> Any:  # the query ports' methods
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)



def _launched_address(spec: LoadedSpec, name: str) -> str | None:
    """The pool's resolver; EC2's code is imported only for a host on AWS."""
    host = spec.env.hosts.get(name)
    if host is None or host.aws is None:
        return None
    from providers.aws.ec2_provider import launched_address

    return launched_address(spec, name)


def _pool(hosts: HostPool | None) -> HostPool:
    from providers.hosts.pool import HostPool

    return hosts or HostPool(resolve=_launched_address)


def lazy_providers(hosts: HostPool | None = None) -> list[Provider]:
    """Every provider drydock ships with, each imported when first used.

    One host pool per registry: every provider that touches hosts (servers, backups of
    server paths, restores, drills, recovery) shares it, so a run opens one transport per
    host and closes them all at its end (`Registry.close`)."""
    pool = _pool(hosts)
    return [LazyProvider(entry, pool) for entry in ENTRIES]


def default_providers(hosts: HostPool | None = None) -> list[Provider]:
    """Every provider drydock ships with, imported and built now (imported here and
    nowhere else in the engine), sharing one host pool."""
    return [p.real() if isinstance(p, LazyProvider) else p for p in lazy_providers(hosts)]


def default_registry(hosts: HostPool | None = None) -> Registry:
    """A registry of the default providers (imported on first use) sharing one host pool;
    a site drill runs its rehearsal's steps through it."""
    providers = lazy_providers(hosts)
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

    pool = _pool(None)
    return open_with(directory, default_registry(pool), hosts=pool)


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
