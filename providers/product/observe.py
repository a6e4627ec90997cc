"""Observe a carbon product home: product, update level, patches, managed config files.

Besides the compared attributes, `facts` carries what the server planner needs to plan a
level change (see `providers/product/level_facts.py`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from engine.contracts.models import ObservedResource
from engine.contracts.provider import ObserveRequest
from engine.spec.secret_tokens import mask, mask_like, refs_in, substitute
from providers.product.fingerprints import fingerprint
from providers.product.level_facts import level_facts
from providers.product.updates import read_level

__all__ = ["observe_server", "read_level", "read_patches"]

PATCHES = Path("repository/components/patches")
MAX_TEXT = 1 << 20


def read_patches(home: Path) -> list[str]:
    """Installed patch folders (`patchNNNN`), without the server's own `patch0000`."""
    folder = home / PATCHES
    if not folder.is_dir():
        return []
    return sorted(
        p.name for p in folder.iterdir()
        if p.is_dir() and p.name.startswith("patch") and p.name[5:].isdigit()
        and p.name != "patch0000"
    )


class _Secrets:
    """The resolved secrets of one managed file: its expected digest and their values."""

    def __init__(self, expected_digest: str, values: list[str]) -> None:
        self.expected_digest = expected_digest
        self.values = values


def _secret_values(request: ObserveRequest, rel: str) -> _Secrets | None:
    """Resolve the secrets a managed file's desired text names, or None when it names none.

    Raises ValueError naming the secret when one cannot be resolved.
    """
    text = request.desired.files.get(rel) if request.desired else None
    if not text or request.resolve_secret is None:
        return None
    refs = refs_in(text)
    if not refs:
        return None
    resolved = {r.describe(): request.resolve_secret(r) for r in refs}
    real = substitute(text, lambda r: resolved[r.describe()])
    return _Secrets("sha256:" + hashlib.sha256(real.encode("utf-8")).hexdigest(),
                    list(resolved.values()))


def observe_server(request: ObserveRequest) -> ObservedResource:
    """Read one server's home. The config digests use the fingerprint cache."""
    source = request.desired.attributes if request.desired else (request.recorded or {})
    home = Path(source.get("home", ""))
    if not home.is_dir():
        return ObservedResource(address=request.address, exists=False,
                                attributes={"home": str(home)},
                                facts=level_facts(request, home, None))
    product_file = home / "updates" / "product.txt"
    product = product_file.read_text(encoding="utf-8").strip() if product_file.exists() else None
    attributes: dict[str, Any] = {
        "product": product,
        "home": str(home),
        "update_level": read_level(home),
        "patches": read_patches(home),
    }
    files: dict[str, str] = {}
    prints = {}
    keys = {k for k in source if k.startswith("config:")}
    if request.recorded:
        keys |= {k for k in request.recorded if k.startswith("config:")}
    for key in sorted(keys):
        rel = key.removeprefix("config:")
        fp = fingerprint(home / rel, request.fingerprints, rel)
        attributes[key] = fp.sha256 if fp else None
        if fp is None:
            continue
        prints[rel] = fp
        wanted = request.desired.attributes.get(key) if request.desired else None
        recorded = (request.recorded or {}).get(key)
        secrets = _secret_values(request, rel)
        if secrets is not None and wanted is not None:
            # The file holds resolved secrets; the spec side only ever sees their tokens.
            expected = secrets.expected_digest
            attributes[key] = wanted if fp.sha256 == expected else fp.sha256
        current = attributes[key]
        if current != wanted or (recorded is not None and current != recorded):
            if fp.size <= MAX_TEXT:
                try:
                    text = (home / rel).read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    text = "(binary file)\n"
                if secrets is not None:
                    text = mask_like(mask(text, secrets.values), request.desired.files[rel])
                files[rel] = text
    return ObservedResource(address=request.address, exists=True, attributes=attributes,
                            files=files, fingerprints=prints,
                            facts=level_facts(request, home, attributes["update_level"]))
