"""The one interface between the engine and the world: observe, run actions, a registry.

The engine only ever sees `Provider`, the query ports and `Registry`; concrete providers
are picked in `engine/wiring.py`, the composition root.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from engine.contracts.catalog import SeriesCatalog
from engine.contracts.facts import (
    ChangeBackup,
    FoundFile,
    PackFacts,
    RepositoryCheck,
    RepositoryListing,
    SnapshotContents,
    SnapshotInfo,
    SnapshotInspection,
)
from engine.contracts.models import Action, DesiredResource, FileFingerprint, ObservedResource
from engine.contracts.queries import (
    PORTS,
    CatalogPort,
    ChangeBackupPort,
    ContentsPort,
    PackPort,
    QueryFailed,
    ServerFilesPort,
    SnapshotPort,
)
from engine.spec.common import SecretRef
from engine.spec.loader import LoadedSpec

ALSO = "_also"
"""Reserved key of `ActionOutcome.data`: {address: {key: value}} merged into other records
(or the action's own, kept even if a later action of its resource fails), e.g. a drill
marking the snapshot it restored as verified in `backup.<policy>`."""


class ActionFailed(Exception):
    """An action could not do its job; the message is one line naming what and why."""


@dataclass(frozen=True)
class ObserveRequest:
    """What a provider needs to observe one resource."""

    address: str
    kind: str
    spec: LoadedSpec
    desired: DesiredResource | None
    recorded: dict[str, Any] | None
    fingerprints: dict[str, FileFingerprint] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    """The resource's recorded data (e.g. a series' cached catalog)."""
    resolve_secret: Callable[[SecretRef], str] | None = None
    replacing: bool = False
    """The plan rebuilds the resource although unchanged (`--replace`): observe what a
    rebuild needs too."""


@dataclass(frozen=True)
class ActionContext:
    """What a provider needs to run one action: the spec, the time, secrets, progress."""

    spec: LoadedSpec
    now: datetime
    run_id: str
    resolve_secret: Callable[[SecretRef], str]
    progress: Callable[[str], None] = lambda _msg: None


class ActionOutcome(BaseModel):
    """What an action reports back: a message and data the engine records in the state.

    `data` is merged into the resource's record (`ResourceRecord.data`);
    `fingerprints` replaces cached file fingerprints for that resource.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    message: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    fingerprints: dict[str, FileFingerprint] | None = None


class Provider(ABC):
    """Observes resources of some kinds and runs actions of some types."""

    kinds: ClassVar[tuple[str, ...]] = ()
    action_types: ClassVar[tuple[str, ...]] = ()

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Read the current state of one resource of one of `kinds` (I/O)."""
        raise ActionFailed(f"{type(self).__name__} observes no resources of kind "
                           f"{request.kind!r}")

    @abstractmethod
    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Perform one action; raise ActionFailed with a one-line reason on failure."""

    def close(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release what the provider held for a run (host connections); it stays usable."""


Port = TypeVar("Port")
_FAILURES = (OSError, ValueError, ActionFailed, QueryFailed)


class Registry:
    """Maps resource kinds, action types and query ports to the providers serving them.

    Raises ValueError when two providers claim one kind, action type or port.
    """

    def __init__(self, providers: list[Provider]) -> None:
        self._by_kind: dict[str, Provider] = {}
        self._by_type: dict[str, Provider] = {}
        self._ports: dict[type, Provider] = {}
        for provider in providers:
            for kind in provider.kinds:
                if kind in self._by_kind:
                    raise ValueError(f"two providers claim resource kind {kind!r}")
                self._by_kind[kind] = provider
            for type_ in provider.action_types:
                if type_ in self._by_type:
                    raise ValueError(f"two providers claim action type {type_!r}")
                self._by_type[type_] = provider
            serves = getattr(provider, "serves", None)  # a stand-in declares its ports
            for port in PORTS:
                if port in serves if serves is not None else isinstance(provider, port):
                    if port in self._ports:
                        raise ValueError(f"two providers serve the query port {port.__name__}")
                    self._ports[port] = provider

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Observe through the provider of the request's kind; errors become `error`.

        A kind no provider claims is an error too, never a silent `exists=True`.
        """
        provider = self._by_kind.get(request.kind)
        if provider is None:
            return ObservedResource(address=request.address, exists=False,
                                    error=f"{request.address}: no provider observes resources "
                                          f"of kind {request.kind!r}")
        try:
            return provider.observe(request)
        except _FAILURES as exc:
            return ObservedResource(address=request.address, exists=False,
                                    error=f"{request.address}: cannot observe: {exc}")

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Run an action through the provider that claims its type."""
        provider = self._by_type.get(action.type)
        if provider is None:
            raise ActionFailed(f"{action.id}: no provider runs actions of type {action.type!r}")
        return provider.run(action, ctx)

    def handles(self, action_type: str) -> bool:
        """True when some provider runs this action type."""
        return action_type in self._by_type

    def close(self) -> None:
        """End of a run: every provider releases its connections (reopened on next use)."""
        providers = [*self._by_kind.values(), *self._by_type.values(), *self._ports.values()]
        for provider in dict.fromkeys(providers):
            provider.close()

    def _port(self, port: type[Port]) -> Port:
        provider = self._ports.get(port)
        if provider is None:
            raise QueryFailed(f"no provider serves {port.__name__}")
        return provider  # type: ignore[return-value]

    # The query ports. Each raises QueryFailed with one line: `<what>: cannot observe: why`.

    def read_catalog(self, spec: LoadedSpec, series: str) -> SeriesCatalog:
        """The catalog of `series` read from its repositories alone."""
        try:
            return self._port(CatalogPort).read_catalog(spec, series)
        except _FAILURES as exc:
            raise QueryFailed(f"backup.{series}: cannot observe: {exc}") from exc

    def list_repository(self, spec: LoadedSpec, repository: str) -> RepositoryListing:
        """Every complete snapshot in `repository`."""
        try:
            return self._port(SnapshotPort).list_repository(spec, repository)
        except _FAILURES as exc:
            raise QueryFailed(f"repository.{repository}: cannot observe: {exc}") from exc

    def inspect_snapshot(self, spec: LoadedSpec, snapshot: SnapshotInfo, *,
                         files: Sequence[str] = (), verify: bool = False) -> SnapshotInspection:
        """Re-hash `snapshot`'s parts (when `verify`) and digest `files` in it."""
        try:
            return self._port(SnapshotPort).inspect_snapshot(spec, snapshot, files=files,
                                                             verify=verify)
        except _FAILURES as exc:
            raise QueryFailed(f"snapshot.{snapshot.label}: cannot observe: {exc}") from exc

    def find_server_files(self, spec: LoadedSpec, server: str,
                          wanted: Mapping[str, str]) -> dict[str, FoundFile]:
        """The bytes with the wanted digests of `server`'s files, where found."""
        try:
            return self._port(ServerFilesPort).find_server_files(spec, server, wanted)
        except _FAILURES as exc:
            raise QueryFailed(f"server-files.{server}: cannot observe: {exc}") from exc

    def pack_facts(self, spec: LoadedSpec, product: str) -> PackFacts:
        """What the pack of `product` installs."""
        try:
            return self._port(PackPort).pack_facts(spec, product)
        except _FAILURES as exc:
            raise QueryFailed(f"pack.{product}: cannot observe: {exc}") from exc

    def change_backup(self, spec: LoadedSpec, server: str, backup_id: str) -> ChangeBackup:
        """The change backup `backup_id` (or `latest`) of `server`."""
        try:
            return self._port(ChangeBackupPort).change_backup(spec, server, backup_id)
        except _FAILURES as exc:
            raise QueryFailed(f"change-backup.{server}@{backup_id}: cannot observe: "
                              f"{exc}") from exc

    def snapshot_contents(self, spec: LoadedSpec, snapshot: SnapshotInfo) -> SnapshotContents:
        """What `snapshot` holds (parts, and the members of a paths snapshot)."""
        try:
            return self._port(ContentsPort).snapshot_contents(spec, snapshot)
        except _FAILURES as exc:
            raise QueryFailed(f"snapshot.{snapshot.label}: cannot observe: {exc}") from exc

    def check_repository(self, spec: LoadedSpec, repository: str, *,
                         read_data: bool = False) -> RepositoryCheck:
        """Every manifest, part and folder of `repository` checked."""
        try:
            return self._port(ContentsPort).check_repository(spec, repository,
                                                             read_data=read_data)
        except _FAILURES as exc:
            raise QueryFailed(f"repository.{repository}: cannot observe: {exc}") from exc
