"""Open an environment: its spec, its state manager, its journal and the providers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.contracts.provider import Registry
from engine.spec.loader import LoadedSpec, load_spec
from engine.spec.models import StateConfig
from state.local import journal_path, open_local_state
from state.manager import StateManager


@dataclass(frozen=True)
class Workspace:
    """Everything one command needs about one environment."""

    spec: LoadedSpec
    state: StateManager
    journal_path: Path
    registry: Registry
    hosts: Any = None
    """The run's host pool (`providers.hosts.pool.HostPool`) when the composition root
    made one: a plan writes its refresh's reads through it into a witness."""


def state_location(spec: LoadedSpec) -> Path:
    """The local state path: the spec's `state.path`, or `.drydock/state/<env>.json`."""
    cfg = spec.env.state
    return spec.path(cfg.path or f".drydock/state/{spec.env.environment}.json")


def open_state(spec: LoadedSpec, cfg: StateConfig | None = None) -> tuple[StateManager, Path]:
    """The state manager of the spec's backend (or of `cfg`) and the journal path beside it."""
    cfg = cfg or spec.env.state
    if cfg.backend == "s3":
        from state.s3 import open_s3_state

        if not cfg.bucket or not cfg.region:
            raise ValueError("state backend s3 needs 'bucket' and 'region'")
        key = cfg.key or f"drydock/{spec.env.environment}.json"
        manager = open_s3_state(cfg.bucket, key, cfg.region, environment=spec.env.environment,
                                endpoint_url=cfg.endpoint_url)
        return manager, spec.path(f".drydock/journal/{spec.env.environment}.journal")
    path = spec.path(cfg.path or f".drydock/state/{spec.env.environment}.json")
    return open_local_state(path, spec.env.environment), journal_path(path)


def open_workspace(directory: Path, registry: Registry, hosts: Any = None) -> Workspace:
    """Load the spec in `directory` and open its state. Raises SpecError, StateError."""
    spec = load_spec(directory)
    manager, journal = open_state(spec)
    return Workspace(spec=spec, state=manager, journal_path=journal, registry=registry,
                     hosts=hosts)
