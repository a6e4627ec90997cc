"""The lazy provider table declares exactly what each provider class claims."""

from __future__ import annotations

from engine.contracts import queries
from engine.contracts.provider import Registry
from engine.wiring import ENTRIES, LazyProvider, default_registry, lazy_providers, provider_class


def test_every_entry_claims_what_its_provider_class_claims() -> None:
    for entry in ENTRIES:
        cls = provider_class(entry)
        ports = {p.__name__ for p in queries.PORTS if issubclass(cls, p)}
        assert (entry.kinds, entry.action_types, set(entry.ports)) == (
            cls.kinds, cls.action_types, ports), entry.target


def test_the_table_names_every_provider_once() -> None:
    targets = [e.target for e in ENTRIES]
    assert len(targets) == len(set(targets))
    Registry(lazy_providers())  # no kind, action type or port claimed twice


def test_a_registry_imports_no_provider_until_one_is_used() -> None:
    registry = default_registry()
    stand_ins = {id(p): p for p in registry._by_type.values()}.values()
    assert all(isinstance(p, LazyProvider) and not p.loaded for p in stand_ins)
    assert registry.handles("server.config")
    server = next(p for p in registry._by_kind.values() if "server" in p.kinds)
    assert isinstance(server, LazyProvider) and not server.loaded
    registry.close()  # closing a registry of unbuilt providers builds none
    assert not server.loaded
    assert type(server.real()).__name__ == "CarbonProvider" and server.loaded
