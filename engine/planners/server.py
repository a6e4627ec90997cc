"""Plan a server change in the runbook's order (pure).

back up (patches, conf, updates, touched files) → stop → update levels one by one or
replace the pack → patches remove/add → config → start → health. Every step after the
backup belongs to one transaction whose compensation restores that backup and restarts.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from engine.desired.names import patch_dir, update_package_name
from engine.model import Action, Change, Step
from engine.planners.base import Chain, PlanContext
from engine.spec.models import Server

BACKUP_PATHS = ("repository/components/patches", "repository/conf", "updates")


def _service_params(server: Server) -> dict[str, Any]:
    if server.service is None:
        return {}
    health = server.service.health
    return {
        "start": server.service.start,
        "stop": server.service.stop,
        "health": None if health is None else {
            "http": health.http, "command": health.command,
            "expect_status": health.expect_status,
            "timeout_seconds": health.timeout.total_seconds(),
        },
    }


def _level(value: Any) -> int:
    return -1 if value is None else int(value)


def plan_server(change: Change, ctx: PlanContext) -> list[Action]:
    """The ordered actions for one server change, with compensation on the backup."""
    name = change.address.split(".", 1)[1]
    if change.action == "delete":
        return _plan_removal(change, ctx, name)
    server = ctx.spec.env.servers[name]
    desired = ctx.desired[change.address]
    observed = ctx.observed.get(change.address)
    host = ctx.spec.env.hosts[server.host]
    product = ctx.spec.env.products[server.product]
    home = desired.attributes["home"]
    base = {"server": name, "host": server.host, "host_root": str(ctx.spec.path(host.root)),
            "home": home}
    service = _service_params(server)
    group = server.rollout.group if server.rollout else None
    chain = Chain(change.address, transaction=True, group=group)
    current = observed.attributes if observed is not None and observed.exists else {}
    exists = bool(current)
    touched = {d.name for d in change.diffs}

    backup_dir = str(PurePath(base["host_root"]) / ".drydock" / "change-backups" / name
                     / ctx.plan_id)
    if exists:
        extra_files = sorted(
            f for f in (observed.facts.get("touched_files", []) if observed else [])
        )
        config_files = sorted(k.removeprefix("config:") for k in touched if k.startswith("config:"))
        steps = [Step(type="server.restore-backup", summary=f"restore {name} from its "
                      "pre-change backup", params={**base, "backup_dir": backup_dir})]
        if service:
            steps += [Step(type="server.start", summary=f"start {name}",
                           params={**base, **service}),
                      Step(type="server.health", summary=f"health check {name}",
                           params={**base, **service})]
        chain.add("backup", "server.backup",
                  f"back up patches, conf and updates of {name}",
                  {**base, "backup_dir": backup_dir,
                   "paths": [*BACKUP_PATHS, *config_files, *extra_files]},
                  compensation=tuple(steps))
    else:
        chain.add("install", "server.install", f"install {server.product} into {home}",
                  {**base, "pack": str(ctx.spec.path(product.pack))})
    if service and exists:
        chain.add("stop", "server.stop", f"stop {name}", {**base, **service})

    now_level = _level(current.get("update_level") if exists else
                       (observed.facts.get("pack_update_level") if observed else None))
    want_level = desired.attributes.get("update_level")
    if want_level is not None and want_level != now_level:
        _plan_levels(chain, ctx, server, base, now_level, want_level, observed)

    want_patches = set(desired.attributes.get("patches", []))
    have_patches = set(current.get("patches", [])) if exists else set()
    for pdir in sorted(have_patches - want_patches):
        chain.add(f"patch-remove-{pdir}", "server.patch.remove", f"remove {pdir} from {name}",
                  {**base, "patch_dir": pdir})
    ids = {patch_dir(p): p for p in server.patches}
    for pdir in sorted(want_patches - have_patches):
        archive = PurePath(ctx.spec.path(product.patches or ".")) / f"{ids[pdir]}.zip"
        chain.add(f"patch-add-{pdir}", "server.patch.add", f"install {ids[pdir]} into {name}",
                  {**base, "patch_dir": pdir, "patch_id": ids[pdir], "archive": str(archive)})

    for key in sorted(desired.attributes):
        if not key.startswith("config:"):
            continue
        if exists and current.get(key) == desired.attributes[key]:
            continue
        path = key.removeprefix("config:")
        mode = server.config[path].mode
        chain.add(f"config-{path}", "server.config", f"write {path} on {name}",
                  {**base, "path": path, "content": desired.files[path],
                   "sha256": desired.attributes[key], "mode": mode})
    if service:
        chain.add("start", "server.start", f"start {name}", {**base, **service})
        if service.get("health"):
            chain.add("health", "server.health", f"health check {name}", {**base, **service})
    return chain.actions


def _plan_levels(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                 now_level: int, want_level: int, observed: Any) -> None:
    name = base["server"]
    product = ctx.spec.env.products[server.product]
    if want_level < now_level:
        chain.add("downgrade", "server.downgrade",
                  f"roll {name} back from level {now_level} to {want_level} from a change backup",
                  {**base, "from_level": now_level, "to_level": want_level})
        return
    platform = server.product.rpartition("-")[2]
    packages = ctx.spec.path(product.updates or ".")
    descriptors = observed.facts.get("updates", {}) if observed is not None else {}
    if server.strategy == "replace":
        chain.add("replace-pack", "server.replace-pack",
                  f"replace {name}'s home with {server.product} at level {want_level}",
                  {**base, "pack": str(ctx.spec.path(product.pack)), "from_level": now_level,
                   "to_level": want_level, "updates": str(packages),
                   "conflicts": server.conflicts}, risky=True)
        return
    for level in range(max(now_level, 0) + 1, want_level + 1):
        info = descriptors.get(str(level), {})
        chain.add(f"update-{level:04d}", "server.update", f"apply update level {level} to {name}",
                  {**base, "level": level, "platform_version": platform,
                   "package": str(PurePath(packages) / update_package_name(platform, level)),
                   "conflicts": server.conflicts,
                   "added": info.get("added", []), "modified": info.get("modified", []),
                   "removed": info.get("removed", []), "problems": info.get("problems", [])})


def _plan_removal(change: Change, ctx: PlanContext, name: str) -> list[Action]:
    recorded = ctx.recorded.get(change.address, {})
    chain = Chain(change.address)
    home = recorded.get("home", "")
    chain.add("stop", "server.stop", f"stop {name} (removed from the spec)",
              {"server": name, "home": home, "host_root": recorded.get("host_root", ""),
               "if_running": True}, risky=True)
    chain.add("archive", "server.archive", f"archive {name}'s home, then remove it",
              {"server": name, "home": home}, risky=True)
    return chain.actions
