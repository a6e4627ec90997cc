"""Refresh: observe every resource through the providers, in parallel with a bound."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from engine.contracts.models import DesiredResource, ObservedResource
from engine.contracts.provider import ObserveRequest, Registry
from engine.contracts.witness import Witness
from engine.secrets import resolve_secret
from engine.spec.common import SecretRef
from engine.spec.loader import LoadedSpec
from state.document import FileFingerprint, ResourceRecord


def refresh(
    registry: Registry,
    spec: LoadedSpec,
    desired: Mapping[str, DesiredResource],
    recorded: Mapping[str, ResourceRecord],
    *,
    parallelism: int = 10,
    cache: Mapping[str, Mapping[str, FileFingerprint]] | None = None,
    on_done: Callable[[str, int], None] = lambda _a, _total: None,
    replacing: frozenset[str] = frozenset(),
    witness: Witness | None = None,
) -> dict[str, ObservedResource]:
    """Observe the union of desired and recorded addresses; returns address -> observed.

    Observation errors do not raise: they come back in `ObservedResource.error`.
    `cache` holds the fingerprints the last refresh saw (see state/fingerprint_cache.py);
    they are preferred to the older ones recorded in the state.
    `on_done(address, total)` is called as each one finishes (for progress display).
    `replacing` are the addresses the plan rebuilds (`--replace`). A secret resolved
    spoils `witness` (its value is not a host read that can be asked again).
    """
    addresses = sorted(set(desired) | set(recorded))
    cached = cache or {}

    def secret(ref: SecretRef) -> str:
        if witness is not None:
            witness.spoil("a managed file names a secret")
        return resolve_secret(ref, spec.directory)

    def one(address: str) -> ObservedResource:
        rec = recorded.get(address)
        want = desired.get(address)
        kind = want.kind if want is not None else (rec.kind if rec else address.split(".")[0])
        request = ObserveRequest(
            address=address, kind=kind, spec=spec, desired=want,
            recorded=dict(rec.attributes) if rec else None,
            fingerprints=dict(cached.get(address) or (rec.fingerprints if rec else {})),
            data=dict(rec.data) if rec else {},
            resolve_secret=secret,
            replacing=address in replacing,
        )
        result = registry.observe(request)
        on_done(address, len(addresses))
        return result

    if not addresses:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(addresses)))) as pool:
        return dict(zip(addresses, pool.map(one, addresses), strict=True))
