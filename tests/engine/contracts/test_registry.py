"""The registry refuses two providers for one kind, type or port, and never answers an
unknown kind with exists=True."""

from __future__ import annotations

from typing import ClassVar

import pytest

from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ActionContext,
    ActionOutcome,
    ObserveRequest,
    Provider,
    Registry,
)
from engine.contracts.queries import PackPort, QueryFailed


class Servers(Provider):
    kinds: ClassVar[tuple[str, ...]] = ("server",)

    def observe(self, request: ObserveRequest) -> ObservedResource:
        return ObservedResource(address=request.address, exists=True)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome()


class Packs(Provider, PackPort):
    def pack_facts(self, spec, product):  # noqa: ANN001, ANN201
        raise ValueError("no pack")

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        return ActionOutcome()


def request(kind: str) -> ObserveRequest:
    return ObserveRequest(address=f"{kind}.x", kind=kind, spec=None,  # type: ignore[arg-type]
                          desired=None, recorded=None)


def test_two_providers_for_one_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="resource kind 'server'"):
        Registry([Servers(), Servers()])


def test_two_providers_for_one_port_are_refused() -> None:
    with pytest.raises(ValueError, match="PackPort"):
        Registry([Packs(), Packs()])


def test_an_unknown_kind_is_an_error_not_an_existing_resource() -> None:
    seen = Registry([Servers()]).observe(request("pack"))
    assert not seen.exists
    assert seen.error == "pack.x: no provider observes resources of kind 'pack'"


def test_a_port_failure_is_one_line_naming_what() -> None:
    with pytest.raises(QueryFailed, match=r"^pack\.p: cannot observe: no pack$"):
        Registry([Packs()]).pack_facts(None, "p")  # type: ignore[arg-type]
    with pytest.raises(QueryFailed, match="no provider serves SnapshotPort"):
        Registry([Servers()]).list_repository(None, "r")  # type: ignore[arg-type]
