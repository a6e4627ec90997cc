"""What a server's planned level change will do, read during observe for the planner.

`ObservedResource.facts` of a server whose declared `update_level` differs from its own:

- `pack_update_level`: the level its product pack installs (a server with no home yet);
- `updates`: {"<level>": {package, platform_version, added, modified, removed, problems,
  conflicts, instructions, notes}} for every level between the current and the declared
  one, from the updates folder indexed by descriptor, with the home's files checked
  against what the pack and the earlier levels' payloads leave, as the levels chain;
- `platform_version`: the kernel version the product's packages are for;
- `replace`: {pack, problems} for `strategy: replace` (the updated pack beside `pack`);
- `downgrade`: {chain, problems} — the change backups that lead down to the level;
- `touched_files`: every file the planned change writes or removes (for the backup);
- `problems`: what stops the change as a whole (e.g. the pack is missing);
- `highest_update_level`: set instead of `updates` when the declared level is beyond the
  highest package in the updates folder (the planner refuses such a plan).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from engine.contracts.names import split_product
from engine.contracts.provider import ObserveRequest
from providers.hosts.base import Transport
from providers.hosts.paths import is_dir, is_file
from providers.product.archive import ArchiveError
from providers.product.downgrade import DowngradeError, find_chain, level_backups, touched_paths
from providers.product.install import pack_facts
from providers.product.level_chain import LevelChain, payload_digests
from providers.product.level_check import UpdateError, conflicts, level_files, refusal
from providers.product.package_index import ProductUpdates, index_updates
from providers.product.replace import level_pack
from providers.product.restore_patches import backups_root
from providers.product.updates import home_product, level_chain


def _level_info(t: Transport, home: PurePosixPath | None, updates: ProductUpdates,
                chain: LevelChain | None, level: int, skip: set[str]) -> dict[str, Any]:
    """One level's files, package, instructions, notes, problems and conflicts."""
    files = level_files(updates, level)
    package = updates.levels[level]
    changes = updates.changes(level)
    assert changes is not None
    info: dict[str, Any] = {
        "package": files.package, "platform_version": files.platform_version,
        "added": list(files.added), "modified": list(files.modified),
        "removed": list(files.removed), "problems": [], "conflicts": [],
        "instructions": files.instructions, "notes": list(files.notes)}
    if home is not None:
        after = {**payload_digests(package, changes), **{p: None for p in files.removed}}
        info["conflicts"] = conflicts(t, home, files, chain, after, skip)
    return info


def describe_levels(t: Transport, home: PurePosixPath | None, updates: ProductUpdates,
                    chain: LevelChain | None, start: int,
                    want: int) -> dict[str, dict[str, Any]]:
    """Describe levels start+1..want from the indexed packages: files added, modified and
    removed, the package, its instructions and notes, problems (no package, or one that
    contradicts its payload) and conflicts of `home`'s files with what the pack and the
    earlier levels leave, checked while the chain of levels is unbroken."""
    out: dict[str, dict[str, Any]] = {}
    skip: set[str] = set()
    chained = home is not None
    for level in range(max(start, 0) + 1, want + 1):
        try:
            info = _level_info(t, home if chained else None, updates, chain, level, skip)
        except (UpdateError, ArchiveError) as exc:
            extra = list(updates.problems) if level not in updates.levels else []
            out[str(level)] = {"added": [], "modified": [], "removed": [],
                               "problems": [str(exc), *extra], "conflicts": [], "notes": []}
            chained = False
            continue
        skip.update(info["added"], info["modified"], info["removed"])
        out[str(level)] = info
    return out


def product_updates(updates_dir: Path, product: str, pack: Path | None) -> tuple[
        ProductUpdates, LevelChain | None, list[str]]:
    """The indexed updates folder for `product`, the expected-content chain from `pack`,
    and problems reading the pack (then the chain is None)."""
    updates = index_updates(updates_dir, product)
    try:
        return updates, level_chain(pack, updates), []
    except UpdateError as exc:
        return updates, None, [str(exc)]


def _replace(pack: Path, want: int) -> dict[str, Any]:
    target = Path(level_pack(pack, want))
    problems = []
    try:
        _product, level = pack_facts(target)
        if level != want:
            problems.append(f"{target.name} is at update level {level}, not {want}")
    except ArchiveError as exc:
        problems.append(f"updated pack for level {want}: {exc}")
    return {"pack": str(target), "problems": problems}


def _downgrade(t: Transport, host_root: PurePosixPath, server: str, now: int,
               want: int) -> dict[str, Any]:
    backups = level_backups(t, backups_root(host_root, server))
    try:
        chain = find_chain(backups, now, want, server)
    except DowngradeError as exc:
        return {"chain": [], "problems": [str(exc)], "touched": []}
    return {"chain": [b.model_dump() for b in chain], "problems": [],
            "touched": touched_paths(t, chain)}


def preflight(t: Transport, params: dict[str, Any]) -> list[str]:
    """Check a planned level change again just before it starts (nothing is touched yet).

    `params` are those of a `server.preflight` action, `t` the server's host. Returns one
    line per problem: a missing or unusable package or pack, conflicting files (unless
    overwriting), or no change backup to roll back to.
    """
    home = PurePosixPath(params["home"])
    now, want, strategy = int(params["from_level"]), int(params["to_level"]), params["strategy"]
    if strategy == "downgrade":
        chain = params.get("chain") or []
        missing = [b["dir"] for b in chain
                   if not is_file(t, PurePosixPath(b["dir"]) / "backup.json")]
        if not chain:
            return [params.get("problem") or f"no change backup leads down to level {want}"]
        return [f"change backup {d} is gone or incomplete" for d in missing]
    if strategy == "replace":
        return _replace(Path(params["pack"]), want)["problems"]
    version = params.get("product_version") or params["platform_version"]
    product = f"{params['product_name']}-{version}"
    pack = Path(params["pack"]) if params.get("pack") else None
    updates, chain, problems = product_updates(Path(params["updates"]), product, pack)
    levels = describe_levels(t, home, updates, chain, now, want)
    out = [*problems, *(p for info in levels.values() for p in info["problems"])]
    if params.get("conflicts") != "overwrite":
        out += [refusal(int(n), info["conflicts"]) for n, info in levels.items()
                if info["conflicts"]]
    return out


def level_facts(request: ObserveRequest, t: Transport, home: PurePosixPath,
                level: int | None) -> dict[str, Any]:
    """Facts for the planner about the server's level change; {} when there is none.

    `t` is the server's host, `level` the home's current level (None: no home yet).
    """
    name = request.address.split(".", 1)[1]
    server = request.spec.env.servers.get(name) if request.desired is not None else None
    if server is None or server.update_level is None:
        return {}
    product = request.spec.env.products[server.product]
    prod_name, version = split_product(server.product)
    prod_name, version = product.name or prod_name, product.version or version
    pack = request.spec.path(product.pack)
    updates_dir = request.spec.path(product.updates or ".")
    want = server.update_level
    facts: dict[str, Any] = {}
    if level is None:
        try:
            level = pack_facts(pack)[1]
        except ArchiveError as exc:
            facts["problems"] = [f"cannot install {name}: {exc}"]
            level = -1
        facts["pack_update_level"] = level
    exists = is_dir(t, home)
    if want > level and exists and server.strategy == "replace":
        facts["replace"] = _replace(pack, want)
    elif want > level:
        full = f"{prod_name}-{version}"
        if exists:  # the packages must suit what the home says it is
            try:
                full = home_product(t, home) or full
            except UpdateError:
                pass
        updates, chain, problems = product_updates(updates_dir, full, pack)
        if want > updates.highest:
            facts["highest_update_level"] = updates.highest
            return facts
        levels = describe_levels(t, home if exists else None, updates, chain, level, want)
        if problems:
            facts["problems"] = [*facts.get("problems", []), *problems]
        facts["platform_version"] = updates.platform_version
        facts["updates"] = levels
        facts["touched_files"] = sorted({p for info in levels.values()
                                         for k in ("added", "modified", "removed")
                                         for p in info[k]})
    elif want < level and exists:
        host_root = PurePosixPath(request.spec.path(request.spec.env.hosts[server.host].root))
        down = _downgrade(t, host_root, name, level, want)
        facts["downgrade"] = {"chain": down["chain"], "problems": down["problems"]}
        facts["touched_files"] = down["touched"]
    return facts
