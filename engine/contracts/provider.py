"""The one interface between the engine and the world: observe, run actions, a registry.

The engine only ever sees `Provider` and `Registry`; concrete providers are wired in
`providers/registry.py`, the composition root.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from engine.contracts.models import Action, DesiredResource, FileFingerprint, ObservedResource
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
    resolve_secret: Callable[[SecretRef], str] | None = None


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
        """Read the current state of one resource (I/O). Default: nothing observable."""
        return ObservedResource(address=request.address, exists=True)

    @abstractmethod
    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Perform one action; raise ActionFailed with a one-line reason on failure."""


class Registry:
    """Maps resource kinds and action types to the providers that handle them."""

    def __init__(self, providers: list[Provider]) -> None:
        self._by_kind: dict[str, Provider] = {}
        self._by_type: dict[str, Provider] = {}
        for provider in providers:
            for kind in provider.kinds:
                self._by_kind[kind] = provider
            for type_ in provider.action_types:
                if type_ in self._by_type:
                    raise ValueError(f"two providers claim action type {type_!r}")
                self._by_type[type_] = provider

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Observe through the provider of the request's kind; errors become `error`."""
        provider = self._by_kind.get(request.kind)
        if provider is None:
            return ObservedResource(address=request.address, exists=True)
        try:
            return provider.observe(request)
        except (OSError, ValueError, ActionFailed) as exc:
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
