"""Authenticated manifests: an HMAC-SHA256 over the manifest body, keyed by a secret.

The sha256 of each part lives in the manifest, so whoever can write a repository can
recompute it; with a key, a manifest also carries ``mac``, and a snapshot whose manifest
has no valid one was not written by drydock holding the key, so it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

from providers.repositories.errors import IntegrityError
from providers.repositories.manifest import Manifest

KeySource = Callable[[], bytes]
"""Returns the key when it is needed (resolved from a secret reference at run time)."""


def manifest_body(manifest: Manifest) -> bytes:
    """The canonical bytes a MAC covers: the manifest's JSON without the ``mac`` field."""
    data = manifest.model_dump(mode="json", exclude={"mac"})
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def mac_of(manifest: Manifest, key: bytes) -> str:
    """``hmac-sha256:<hex>`` of the manifest body under `key`."""
    return "hmac-sha256:" + hmac.new(key, manifest_body(manifest), hashlib.sha256).hexdigest()


def signed(manifest: Manifest, key: bytes) -> Manifest:
    """The manifest with its ``mac`` set for `key`."""
    return manifest.model_copy(update={"mac": mac_of(manifest, key)})


def check_mac(manifest: Manifest, key: bytes, *, where: str) -> None:
    """Accept a manifest whose MAC verifies under `key`; raises IntegrityError otherwise."""
    if manifest.mac is None:
        problem = "has no MAC"
    elif hmac.compare_digest(manifest.mac, mac_of(manifest, key)):
        return
    else:
        problem = "has a MAC that does not verify"
    raise IntegrityError(
        f"{where}: manifest {problem} under the repository's hmac_key, so it was not written "
        "by drydock with that key; refused (restore another snapshot or copy)")
