"""Observe a carbon product home: product, update level, patches, managed config files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.model import ObservedResource
from providers.base import ObserveRequest
from providers.product.fingerprints import fingerprint

PATCHES = Path("repository/components/patches")
MAX_TEXT = 1 << 20


def read_level(home: Path) -> int:
    """The update level from `updates/config.json`; -1 when absent (never updated)."""
    path = home / "updates" / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return -1
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: unreadable update level ({exc})") from exc
    level = data.get("update-level", -1)
    return int(level) if isinstance(level, int | str) and str(level).lstrip("-").isdigit() else -1


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
                                attributes={"home": str(home)})
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
                            files=files, fingerprints=prints)
