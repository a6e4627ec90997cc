"""Plan the rebuild of one server at the recovering site exactly as it ran (pure).

From the newest snapshot of its runtime series: install the pack, apply the update
levels above the pack's up to the level the snapshot records, install the patches it
records, each from the replicated artifact the snapshot names (content-addressed in the
same repository, see `providers.repositories.artifacts`), then restore every path the
snapshot holds (conf, patches, deployments, keystores, tenants, updates) over the fresh
home, then start and health-check it. An archive the snapshot does not name (taken
before artifacts were replicated) falls back to the spec's folders, and the plan says so
for that part: those may be the lost site's. Without any snapshot, level, patches and
config come from the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pydantic import AwareDatetime

from engine.contracts.facts import PackFacts, SnapshotInfo
from engine.contracts.models import Action, Frozen
from engine.contracts.names import patch_dir, split_product, update_package_name
from engine.desired.servers import sha256_text
from engine.planners.base import Chain
from engine.planners.restore.last_good import patch_ids
from engine.planners.server import declared_mode, service_params
from engine.spec.loader import LoadedSpec


class PartSource(Frozen):
    """Where one part of a rebuilt server comes from."""

    part: str
    source: str
    replicated: bool = True
    """False when it is read from the spec's folders (possibly at the lost site)."""


class ServerSource(Frozen):
    """Per recovered server: the snapshot it is rebuilt from (its RPO) and every part."""

    server: str
    host: str
    snapshot: str | None = None
    repository: str | None = None
    created: AwareDatetime | None = None
    age_seconds: float | None = None
    parts: tuple[PartSource, ...] = ()


class ServerRebuild(Frozen):
    """The actions, recorded attributes and sources of one server's rebuild."""

    actions: tuple[Action, ...]
    attributes: dict[str, Any]
    source: ServerSource
    warnings: tuple[str, ...] = ()


def _artifact_index(facts: Mapping[str, Any]) -> tuple[dict[str, Any] | None,
                                                       dict[int, dict[str, Any]],
                                                       dict[str, dict[str, Any]]]:
    refs = [r for r in facts.get("artifacts") or [] if isinstance(r, dict)]
    pack = next((r for r in refs if r.get("kind") == "pack"), None)
    updates = {int(r["level"]): r for r in refs if r.get("kind") == "update" and "level" in r}
    patches = {str(r["patch_dir"]): r for r in refs
               if r.get("kind") == "patch" and "patch_dir" in r}
    return pack, updates, patches


def _label(ref: Mapping[str, Any], repository: str) -> str:
    return f"artifact {str(ref['sha256'])[:12]} ({ref.get('name')}) in {repository}"


def plan_server_rebuild(spec: LoadedSpec, server_name: str, new_host: str,
                        snap: SnapshotInfo | None, *, desired_files: Mapping[str, str],
                        pack_level: int, after: tuple[str, ...], now: datetime,
                        pack: PackFacts | None = None) -> ServerRebuild:
    """The rebuild of `server_name` on `new_host` from `snap` (None: from the spec).

    `pack_level` and `pack` (its kernel and update packages by level, read from the spec's
    folders) are only used for what the snapshot does not record itself.
    """
    server = spec.env.servers[server_name]
    product = spec.env.products[server.product]
    host_root = PurePath(spec.path(spec.env.hosts[new_host].root))
    base = {"server": server_name, "host": new_host, "host_root": str(host_root),
            "home": str(host_root / server.home)}
    facts = snap.facts if snap is not None else {}
    level = facts.get("update_level", server.update_level)
    level = -1 if level is None else int(level)
    dirs = list(facts.get("patches", sorted(patch_dir(p) for p in server.patches)))
    pack_ref, update_refs, patch_refs = _artifact_index(facts)
    if "pack_update_level" in facts:
        pack_level = int(facts["pack_update_level"])
    repo = snap.repository if snap is not None else ""
    parts: list[PartSource] = []
    warnings: list[str] = []

    def source(key: str, ref: Mapping[str, Any] | None, path: str, part: str
               ) -> dict[str, Any]:
        if ref is not None:
            parts.append(PartSource(part=part, source=_label(ref, repo)))
            return {key: str(ref.get("name")), f"{key}_artifact": {
                "repository": repo, "sha256": ref["sha256"], "name": ref.get("name"),
                "size": ref.get("size")}}
        parts.append(PartSource(part=part, source=f"{path} (the spec's folder; not "
                                                  "replicated)", replicated=False))
        if snap is not None:
            warnings.append(f"server.{server_name}: {part} is not replicated in {repo}; it is "
                            f"read from {path}, which may be at the lost site")
        return {key: path}

    service = service_params(server)
    # No rollout group: the servers being rebuilt are down already, so serialising them
    # would only lengthen the recovery; restores onto running servers keep their group.
    chain = Chain(f"server.{server_name}")
    pack_param = source("pack", pack_ref, str(spec.path(product.pack)),
                        f"pack {server.product}")
    chain.add("install", "server.install", f"install {server.product} into {base['home']} on "
              f"{new_host} from {parts[-1].source}",
              {**base, **service, **pack_param, "problems": []})
    name, version = split_product(server.product)
    name, version = product.name or name, product.version or version
    updates = PurePath(spec.path(product.updates or "."))
    kernel = facts.get("platform_version") or (pack.platform_version if pack else None)
    for n in range(max(pack_level, 0) + 1, level + 1):
        fallback = (pack.packages.get(n) if pack else None) or str(
            updates / update_package_name(kernel or "<kernel>", n))
        package = source("package", update_refs.get(n), fallback, f"update level {n}")
        # no `pack`: the home is fresh from the pack and the levels before, so there is
        # nothing to compare each touched file with
        chain.add(f"update-{n:04d}", "server.update", f"apply update level {n} to "
                  f"{server_name} from {parts[-1].source}",
                  {**base, "level": n, "product_name": name, "product_version": version,
                   "platform_version": kernel or "<kernel>", **package,
                   "conflicts": server.conflicts, "added": [], "modified": [], "removed": [],
                   "problems": [], "overwrites": []})
    archives = PurePath(spec.path(product.patches or "."))
    for pdir, pid in patch_ids(spec, server.product, dirs, kernel).items():
        archive = source("archive", patch_refs.get(pdir), str(archives / f"{pid}.zip"),
                         f"patch {pid}")
        chain.add(f"patch-add-{pdir}", "server.patch.add", f"install {pid} into "
                  f"{server_name} from {parts[-1].source}",
                  {**base, "patch_dir": pdir, "patch_id": pid, **archive})
    if snap is not None:
        parts.append(PartSource(part="runtime data (conf, patches, deployments, keystores, "
                                     "tenants, updates)",
                                source=f"snapshot {snap.id} of {snap.series} in {repo}"))
        chain.add("restore-runtime", "restore.paths",
                  f"restore {server_name}'s runtime paths as they ran from snapshot {snap.id} "
                  f"of {snap.series} in {repo}",
                  {**base, "repository": repo, "series": snap.series, "snapshot_id": snap.id,
                   "dest": base["home"], "only": None, "require_empty": False}, risky=True)
    else:
        for path, text in sorted(desired_files.items()):
            parts.append(PartSource(part=path, source="the spec (no snapshot)",
                                    replicated=False))
            chain.add(f"config-{path}", "server.config", f"write {path} on {server_name} "
                      "(from the spec: no snapshot)", {
                          **base, "path": path, "content": text, "sha256": sha256_text(text),
                          "mode": declared_mode(server.config[path])})
    if service:
        chain.add("start", "server.start", f"start {server_name} on {new_host}",
                  {**base, **service}, after=after)
        if service.get("health"):
            chain.add("health", "server.health", f"health check {server_name}",
                      {**base, **service})
    for line in facts.get("artifacts_missing") or []:
        warnings.append(f"server.{server_name}: when snapshot {snap.id if snap else '?'} was "
                        f"taken, {line}")
    attrs: dict[str, Any] = {"product": server.product, "home": base["home"],
                             "patches": sorted(dirs)}
    if level >= 0 or server.update_level is not None:
        attrs["update_level"] = level
    where = ServerSource(
        server=server_name, host=new_host, parts=tuple(parts),
        snapshot=snap.id if snap else None, repository=repo or None,
        created=snap.created if snap else None,
        age_seconds=(now - snap.created).total_seconds() if snap else None)
    return ServerRebuild(actions=tuple(chain.actions), attributes=attrs, source=where,
                         warnings=tuple(warnings))
