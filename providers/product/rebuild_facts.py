"""What rebuilding a server's home (`--replace`) will install, read during observe.

A rebuild replaces the home with a fresh one from the product at the server's level (the
declared `update_level`, else the level the home is at): the updated pack of that level
beside the product pack (`<stem>-level<N>.zip`) when there is one, otherwise the product
pack itself with the update levels above its own applied one after another. The facts,
under `rebuild` in the server's `ObservedResource.facts`:

- `pack`, `pack_level`: the pack the new home is unpacked from and the level it is at;
- `level`: the level the rebuilt home ends at;
- `updates`, `platform_version`: the levels pack_level+1..level, described as for a level
  change (there is no home to conflict with: the new one is fresh);
- `problems`: what stops the rebuild (no readable pack, a level below the pack's own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.contracts.names import split_product
from engine.contracts.provider import ObserveRequest
from providers.hosts.base import Transport
from providers.product.archive import ArchiveError
from providers.product.artifact_files import artifact_present
from providers.product.install import pack_facts
from providers.product.level_facts import describe_levels, product_updates
from providers.product.replace import level_pack


def server_rebuild_facts(request: ObserveRequest, t: Transport, product: str | None,
                         level: int) -> dict[str, Any]:
    """`{"rebuild": ...}` for the declared server of `request` whose home on `t` holds
    `product` at `level`; {} when the plan does not rebuild it."""
    name = request.address.split(".", 1)[1]
    server = request.spec.env.servers.get(name)
    if not request.replacing or server is None:
        return {}
    declared = request.spec.env.products[server.product]
    prod_name, version = split_product(server.product)
    full = product or f"{declared.name or prod_name}-{declared.version or version}"
    want = level if server.update_level is None else server.update_level
    return {"rebuild": rebuild_facts(t, request.spec.path(declared.pack),
                                     request.spec.path(declared.updates or "."), full, want)}


def rebuild_facts(t: Transport, pack: Path, updates_dir: Path, product: str,
                  level: int) -> dict[str, Any]:
    """The `rebuild` facts for a home of `product` (`wso2am-4.2.0`) at `level` from the
    product's `pack` and `updates_dir` (`t`: the server's host). Never raises: what stops
    the rebuild is a problem line."""
    updated = Path(level_pack(pack, level))
    if artifact_present(updated):
        try:
            if pack_facts(updated)[1] == level:
                return {"pack": str(updated), "pack_level": level, "level": level,
                        "updates": {}, "problems": []}
        except ArchiveError:
            pass  # an unusable updated pack: rebuild from the product pack instead
    try:
        pack_level = pack_facts(pack)[1]
    except ArchiveError as exc:
        return {"pack": str(pack), "pack_level": level, "level": level, "updates": {},
                "problems": [f"cannot rebuild from {pack.name}: {exc}"]}
    facts: dict[str, Any] = {"pack": str(pack), "pack_level": pack_level, "level": level,
                             "updates": {}, "problems": []}
    if level < pack_level:
        facts["problems"] = [f"{pack.name} is at update level {pack_level}, above the "
                             f"server's level {level}; build {updated.name} to rebuild it"]
    elif level > pack_level:
        updates, chain, problems = product_updates(updates_dir, product, pack)
        facts["updates"] = describe_levels(t, None, updates, chain, pack_level, level)
        facts["platform_version"] = updates.platform_version
        facts["problems"] = [*problems, *(p for info in facts["updates"].values()
                                          for p in info["problems"])]
    return facts
