"""What a server's planned level change will do, read during observe for the planner.

`ObservedResource.facts` of a server whose declared `update_level` differs from its own:

- `pack_update_level`: the level its product pack installs (a server with no home yet);
- `updates`: {"<level>": {added, modified, removed, problems, conflicts}} for every level
  between the current and the declared one, read from the packages' descriptors, with the
  home's files checked against each level's `before` checksums as the levels chain;
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
from providers.product.archive import ArchiveError, artifact_names
from providers.product.downgrade import DowngradeError, find_chain, level_backups, touched_paths
from providers.product.install import pack_facts
from providers.product.replace import level_pack
from providers.product.restore_patches import backups_root
from providers.product.updates import (
    UpdateError,
    conflicts,
    package_path,
    read_descriptor,
    refusal,
)


def describe_levels(t: Transport, home: PurePosixPath | None, updates_dir: Path,
                    product: str, version: str, start: int, want: int) -> dict[str, dict[str, Any]]:
    """Describe levels start+1..want from their descriptors: files added, modified and
    removed, problems (missing or unusable package) and conflicts with `home`'s files,
    checked while the chain of levels is unbroken."""
    out: dict[str, dict[str, Any]] = {}
    known: dict[str, frozenset[str | None]] = {}
    chained = home is not None
    for level in range(max(start, 0) + 1, want + 1):
        package = package_path(updates_dir, version, level)
        try:
            files = read_descriptor(package, product=product, version=version, level=level)
        except UpdateError as exc:
            out[str(level)] = {"added": [], "modified": [], "removed": [],
                               "problems": [str(exc)], "conflicts": []}
            chained = False
            continue
        found = conflicts(t, home, files, known) if chained and home is not None else []
        known.update({p: frozenset({s.after}) for p, s in files.checksums.items()})
        out[str(level)] = {"added": list(files.added), "modified": list(files.modified),
                           "removed": list(files.removed), "problems": [],
                           "conflicts": found}
    return out


def highest_offered(updates_dir: Path, version: str) -> int:
    """The highest level among the update packages in `updates_dir`; -1 when none.

    Read from the file names, so a declared level far beyond what exists is found without
    visiting every level in between.
    """
    prefix = f"WSO2-CARBON-UPDATE-{version}-"
    names = artifact_names(updates_dir)
    levels = [int(n[len(prefix):-4]) for n in names
              if n.startswith(prefix) and n.endswith(".zip") and n[len(prefix):-4].isdigit()]
    return max(levels, default=-1)


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
    levels = describe_levels(t, home, Path(params["updates"]), params["product_name"],
                             params["platform_version"], now, want)
    out = [p for info in levels.values() for p in info["problems"]]
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
    elif want > level and want > (highest := highest_offered(updates_dir, version)):
        facts["highest_update_level"] = highest
    elif want > level:
        levels = describe_levels(t, home if exists else None, updates_dir, prod_name, version,
                                 level, want)
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
