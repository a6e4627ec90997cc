"""Observe a carbon product home: product, update level, patches, managed config files.

Besides the compared attributes, `facts` carries what the server planner needs to plan a
level change (see `providers/product/level_facts.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.model import ObservedResource
from providers.base import ObserveRequest
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
        if fp.sha256 not in (wanted,) or (recorded is not None and fp.sha256 != recorded):
            if fp.size <= MAX_TEXT:
                try:
                    files[rel] = (home / rel).read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    files[rel] = "(binary file)\n"
    return ObservedResource(address=request.address, exists=True, attributes=attributes,
                            files=files, fingerprints=prints,
                            facts=level_facts(request, home, attributes["update_level"]))
