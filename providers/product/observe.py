"""Observe a carbon product home: product, update level, patches, managed config files.

Everything is read on the server's host through its transport: a warm refresh costs one
`stat` per managed file (see `fingerprints`), and a file's text is read only when it
differs from what is wanted or recorded (for the diff).

Besides the compared attributes, `facts` carries what the server planner needs to plan a
level change (see `providers/product/level_facts.py`).
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

from engine.contracts.models import ObservedResource
from engine.contracts.provider import ObserveRequest
from engine.spec.secret_tokens import mask, mask_like, refs_in, substitute
from providers.hosts.base import Transport
from providers.hosts.paths import inside, is_dir, read_text
from providers.product.fingerprints import fingerprint
from providers.product.level_facts import level_facts
from providers.product.patch_facts import patch_archive_facts
from providers.product.rebuild_facts import server_rebuild_facts
from providers.product.replace import interrupted_swap, swapped_in_home
from providers.product.service import service_died
from providers.product.updates import read_level

__all__ = ["observe_server", "read_level", "read_patches"]

PATCHES = PurePosixPath("repository/components/patches")
MAX_TEXT = 1 << 20


def read_patches(t: Transport, home: PurePosixPath) -> list[str]:
    """Installed patch folders (`patchNNNN`), without the server's own `patch0000`."""
    return sorted(
        e.name for e in t.list_dir(home / PATCHES)
        if e.stat.kind == "dir" and e.name.startswith("patch") and e.name[5:].isdigit()
        and e.name != "patch0000"
    )


def patch_facts(request: ObserveRequest, installed: list[str]) -> dict[str, Any]:
    """`{"patch_archives": {patchNNNN: {instructions, others, problems}}}` for each declared
    patch not yet in the home, or each one when the home is rebuilt ({} when there is
    none)."""
    from pathlib import Path

    from engine.contracts.names import patch_dir

    name = request.address.split(".", 1)[1]
    server = request.spec.env.servers.get(name) if request.desired is not None else None
    if server is None or not server.patches:
        return {}
    product = request.spec.env.products[server.product]
    folder = Path(request.spec.path(product.patches or "."))
    out = {patch_dir(pid): patch_archive_facts(folder / f"{pid}.zip", pid, patch_dir(pid))
           for pid in server.patches
           if request.replacing or patch_dir(pid) not in installed}
    return {"patch_archives": out} if out else {}


def read_product(t: Transport, home: PurePosixPath) -> str | None:
    """The product a home holds (`updates/product.txt`), None when it has none."""
    text = read_text(t, home / "updates" / "product.txt")
    return text.strip() if text is not None else None


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


def observe_server(request: ObserveRequest, t: Transport) -> ObservedResource:
    """Read one server's home on its host `t`. The config digests use the fingerprint
    cache; a managed file reached through a link must stay inside the home."""
    source = request.desired.attributes if request.desired else (request.recorded or {})
    declared = home = PurePosixPath(source.get("home", ""))
    swap = None if is_dir(t, home) else interrupted_swap(t, home)
    if swap is not None:
        home = swapped_in_home(home, swap)  # what the killed replacement was putting in place
    elif not is_dir(t, home):
        return ObservedResource(address=request.address, exists=False,
                                attributes={"home": str(home)},
                                facts={**level_facts(request, t, home, None),
                                       **patch_facts(request, [])})
    attributes: dict[str, Any] = {
        "product": read_product(t, home),
        "home": str(declared),
        "update_level": read_level(t, home),
        "patches": read_patches(t, home),
    }
    files: dict[str, str] = {}
    prints = {}
    keys = {k for k in source if k.startswith("config:")}
    if request.recorded:
        keys |= {k for k in request.recorded if k.startswith("config:")}
    for key in sorted(keys):
        rel = key.removeprefix("config:")
        where = f"{request.address}: config file"
        fp = fingerprint(t, home / rel, request.fingerprints, rel,
                         resolve=lambda _p, rel=rel, where=where: inside(t, home, rel, what=where))
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
                    text = t.read_bytes(inside(t, home, rel, what=where),
                                        limit=MAX_TEXT).decode("utf-8")
                except UnicodeDecodeError:
                    text = "(binary file)\n"
                if secrets is not None:
                    text = mask_like(mask(text, secrets.values), request.desired.files[rel])
                files[rel] = text
    facts = {**level_facts(request, t, home, attributes["update_level"]),
             **server_rebuild_facts(request, t, attributes["product"],
                                    attributes["update_level"])}
    if swap is not None:
        facts = {**facts, "interrupted_swap": swap}
    server = request.spec.env.servers.get(request.address.partition(".")[2])
    if server is not None and server.service is not None:
        facts = {**facts, "service_died": service_died(t, home)}
    return ObservedResource(address=request.address, exists=True, attributes=attributes,
                            files=files, fingerprints=prints,
                            facts={**facts, **patch_facts(request, attributes["patches"])})
