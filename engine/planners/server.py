"""Plan a server change in the runbook's order (pure).

back up (patches, conf, updates, every file the change touches) → stop → update levels one
by one, replace the pack, or roll back to a lower level → patches remove/add → config →
start → health. Every step after the backup belongs to one transaction whose compensation
stops the server, restores that backup, starts it and checks its health (a pack
replacement first swaps the old home back). A server with no home is installed from its
product's pack instead; a server removed from the spec is stopped and its home archived.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from engine.contracts.models import Action, Change, DesiredResource, ObservedResource, Step
from engine.contracts.names import patch_dir, split_product, update_package_name
from engine.planners.base import Chain, PlanContext, PlanningError
from engine.spec.models import Server

BACKUP_PATHS = ("repository/components/patches", "repository/conf", "updates")
SERVICE_DIFF = "service"
"""The diff of a server whose declared service is not running (nothing else differs)."""


def service_params(server: Server) -> dict[str, Any]:
    """The start/stop commands and health check of a server as action params ({} if none)."""
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
            **({"from": "controller"} if health.from_ == "controller" else {}),
        },
    }


def server_base(ctx: PlanContext, name: str) -> dict[str, Any]:
    """The params every action on server `name` carries: name, host, host root, home."""
    server = ctx.spec.env.servers[name]
    host = ctx.spec.env.hosts[server.host]
    home = str(PurePath(ctx.spec.path(host.root)) / server.home)
    return {"server": name, "host": server.host, "host_root": str(ctx.spec.path(host.root)),
            "home": home}


def change_backup_dir(base: dict[str, Any], plan_id: str) -> str:
    """`<host_root>/.drydock/change-backups/<server>/<plan id>`."""
    return str(PurePath(base["host_root"]) / ".drydock" / "change-backups" / base["server"]
               / plan_id)


def restore_steps(base: dict[str, Any], service: dict[str, Any],
                  backup_dir: str) -> tuple[Step, ...]:
    """Compensation of a server change: stop, restore the pre-change backup, start, check."""
    name = base["server"]
    steps = []
    if service:
        steps.append(Step(type="server.stop", summary=f"stop {name}",
                          params={**base, **service}))
    steps.append(Step(type="server.restore-backup",
                      summary=f"restore {name} from its pre-change backup",
                      params={**base, "backup_dir": backup_dir}))
    if service:
        steps.append(Step(type="server.start", summary=f"start {name}",
                          params={**base, **service}))
        if service.get("health"):
            steps.append(Step(type="server.health", summary=f"health check {name}",
                              params={**base, **service}))
    return tuple(steps)


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
    facts = observed.facts if observed is not None else {}
    product = ctx.spec.env.products[server.product]
    base = server_base(ctx, name)
    base["home"] = desired.attributes["home"]
    service = service_params(server)
    group = server.rollout.group if server.rollout else None
    if service and [d.name for d in change.diffs] == [SERVICE_DIFF]:
        return _plan_start(change, base, service, group)
    chain = Chain(change.address, transaction=True, group=group)
    current = observed.attributes if observed is not None and observed.exists else {}
    exists = bool(current)
    now_level = _level(current.get("update_level") if exists else facts.get("pack_update_level"))
    want_level = desired.attributes.get("update_level")
    moving = want_level is not None and want_level != now_level

    highest = facts.get("highest_update_level")
    if moving and highest is not None and want_level > highest:
        offered = f"offers levels up to {highest}" if highest >= 0 else "holds no packages"
        raise PlanningError(
            f"server.{name}: update_level {want_level} is beyond the updates folder "
            f"{ctx.spec.path(product.updates or '.')}, which {offered}")
    if exists and facts.get("interrupted_swap"):
        _finish_swap(chain, ctx, server, base, now_level, str(facts["interrupted_swap"]))
    if moving and exists:
        chain.add("preflight", "server.preflight",
                  f"check {name}'s level change {now_level} → {want_level} before anything "
                  "changes", _preflight_params(ctx, server, base, now_level, want_level, facts))
    if exists:
        backup_dir = change_backup_dir(base, ctx.plan_id)
        config_files = sorted(d.name.removeprefix("config:") for d in change.diffs
                              if d.name.startswith("config:"))
        params: dict[str, Any] = {
            **base, **service, "backup_dir": backup_dir,
            "paths": [*BACKUP_PATHS, *config_files, *facts.get("touched_files", [])]}
        if moving:
            strategy = ("downgrade" if want_level < now_level else server.strategy)
            params["levels"] = {"from": now_level, "to": want_level, "strategy": strategy}
        chain.add("backup", "server.backup",
                  f"back up patches, conf, updates and touched files of {name}", params,
                  compensation=restore_steps(base, service, backup_dir))
    else:
        chain.add("install", "server.install", f"install {server.product} into {base['home']}",
                  {**base, **service, "pack": str(ctx.spec.path(product.pack)),
                   "problems": list(facts.get("problems", []))})
    if service and exists:
        chain.add("stop", "server.stop", f"stop {name}", {**base, **service})

    if moving:
        _plan_levels(chain, ctx, server, base, now_level, want_level, observed, exists)

    want_patches = set(desired.attributes.get("patches", []))
    have_patches = set(current.get("patches", [])) if exists else set()
    for pdir in sorted(have_patches - want_patches):
        chain.add(f"patch-remove-{pdir}", "server.patch.remove", f"remove {pdir} from {name}",
                  {**base, "patch_dir": pdir})
    add_patches(chain, ctx, server, base, sorted(want_patches - have_patches), facts)
    write_config(chain, server, base, desired, current)
    start_and_check(chain, base, service)
    return chain.actions


def add_patches(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                dirs: list[str], facts: dict[str, Any]) -> None:
    """Install the patch folders `dirs` of `server` from their archives."""
    name = base["server"]
    product = ctx.spec.env.products[server.product]
    ids = {patch_dir(p): p for p in server.patches}
    archives = facts.get("patch_archives", {})
    for pdir in dirs:
        archive = PurePath(ctx.spec.path(product.patches or ".")) / f"{ids[pdir]}.zip"
        info = archives.get(pdir, {})
        chain.add(f"patch-add-{pdir}", "server.patch.add",
                  f"install {ids[pdir]} into {name} (copies {pdir}/ only)",
                  {**base, "patch_dir": pdir, "patch_id": ids[pdir], "archive": str(archive),
                   "instructions": "\n".join(info.get("instructions", [])),
                   "notes": patch_notes(ids[pdir], info),
                   "problems": list(info.get("problems", []))})


def write_config(chain: Chain, server: Server, base: dict[str, Any],
                 desired: DesiredResource, current: dict[str, Any]) -> None:
    """Write every declared configuration file whose digest differs from `current`'s
    (all of them when `current` is empty)."""
    for key in sorted(desired.attributes):
        if not key.startswith("config:") or current.get(key) == desired.attributes[key]:
            continue
        path = key.removeprefix("config:")
        chain.add(f"config-{path}", "server.config", f"write {path} on {base['server']}",
                  {**base, "path": path, "content": desired.files[path],
                   "sha256": desired.attributes[key],
                   "mode": declared_mode(server.config[path])})


def start_and_check(chain: Chain, base: dict[str, Any], service: dict[str, Any]) -> None:
    """Start the server and check its health, when it declares a service."""
    if service:
        name = base["server"]
        chain.add("start", "server.start", f"start {name}", {**base, **service})
        if service.get("health"):
            chain.add("health", "server.health", f"health check {name}", {**base, **service})


def _plan_start(change: Change, base: dict[str, Any], service: dict[str, Any],
                group: str | None) -> list[Action]:
    """Start a server that is up to date but not running, and check its health."""
    name = base["server"]
    chain = Chain(change.address, group=group)
    chain.add("start", "server.start", f"start {name} (its service is not running)",
              {**base, **service})
    if service.get("health"):
        chain.add("health", "server.health", f"health check {name}", {**base, **service})
    return chain.actions


def _finish_swap(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                 level: int, plan_id: str) -> None:
    """An apply killed between the two renames of a pack replacement left the home gone and
    the new one complete beside it: move it into place before anything else."""
    name = base["server"]
    pack = PurePath(ctx.spec.path(ctx.spec.env.products[server.product].pack))
    chain.add("finish-swap", "server.replace-pack",
              f"finish {name}'s interrupted pack replacement (plan {plan_id}): move the new "
              "home into place", {**base, "pack": str(pack), "from_level": level,
                                  "to_level": level, "plan_id": plan_id, "problems": [],
                                  "keep_patches": sorted(patch_dir(p) for p in server.patches)},
              risky=True)


def patch_notes(patch_id: str, info: dict[str, Any]) -> list[str]:
    """The plan's line for a patch archive's members a person must place by hand."""
    others = list(info.get("others") or [])
    if not others:
        return []
    shown = ", ".join(f"{patch_id}/{o}" for o in others[:6])
    more = f" and {len(others) - 6} more" if len(others) > 6 else ""
    return [f"not copied by drydock: {shown}{more}; place them as its README.txt says"]


def _product_names(ctx: PlanContext, server: Server) -> tuple[str, str]:
    product = ctx.spec.env.products[server.product]
    name, version = split_product(server.product)
    return product.name or name, product.version or version


def _preflight_params(ctx: PlanContext, server: Server, base: dict[str, Any], now_level: int,
                      want_level: int, facts: dict[str, Any]) -> dict[str, Any]:
    product = ctx.spec.env.products[server.product]
    prod_name, version = _product_names(ctx, server)
    down = facts.get("downgrade", {})
    return {**base, "from_level": now_level, "to_level": want_level,
            "strategy": "downgrade" if want_level < now_level else server.strategy,
            "product_name": prod_name, "product_version": version,
            "updates": str(ctx.spec.path(product.updates or ".")),
            "conflicts": server.conflicts, "pack": str(ctx.spec.path(product.pack)),
            "chain": list(down.get("chain", [])),
            "problem": next(iter(down.get("problems", [])), None)}


def _plan_levels(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                 now_level: int, want_level: int, observed: ObservedResource | None,
                 exists: bool) -> None:
    name = base["server"]
    product = ctx.spec.env.products[server.product]
    facts = observed.facts if observed is not None else {}
    if want_level < now_level:
        down = facts.get("downgrade", {})
        backups = ", ".join(b["id"] for b in down.get("chain", [])) or "none found"
        chain.add("downgrade", "server.downgrade",
                  f"roll {name} back from level {now_level} to {want_level} from change "
                  f"backups ({backups})",
                  {**base, "from_level": now_level, "to_level": want_level,
                   "chain": list(down.get("chain", [])),
                   "problems": list(down.get("problems", []))}, risky=True)
        return
    if server.strategy == "replace" and exists:
        info = facts.get("replace", {})
        pack = PurePath(ctx.spec.path(product.pack))
        level_pack = info.get("pack") or str(pack.with_name(
            f"{pack.name.removesuffix('.zip')}-level{want_level}.zip"))
        replace_pack(chain, ctx, server, base, level_pack, now_level, want_level,
                     keep_patches=sorted(patch_dir(p) for p in server.patches),
                     problems=list(info.get("problems", [])))
        return
    update_levels(chain, ctx, server, base, now_level, want_level, facts)


def replace_pack(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                 pack: str, now_level: int, to_level: int, *, keep_patches: list[str],
                 problems: list[str], why: str = "") -> None:
    """Put a fresh home from `pack` (at `to_level`) in place of the server's, carrying its
    runtime data and the patch folders `keep_patches` over; undone by swapping back."""
    name = base["server"]
    stop = {"stop": server.service.stop} if server.service else {}
    undo = Step(type="server.swap-back", summary=f"swap {name}'s previous home back",
                params={**base, **stop, "plan_id": ctx.plan_id})
    chain.add("replace-pack", "server.replace-pack",
              f"replace {name}'s home with {PurePath(pack).name} "
              f"({f'level {to_level}' if to_level >= 0 else 'never updated'}){why}",
              {**base, "pack": pack, "from_level": now_level, "to_level": to_level,
               "keep_patches": keep_patches, "plan_id": ctx.plan_id, "problems": problems},
              compensation=(undo,), risky=True)


def update_levels(chain: Chain, ctx: PlanContext, server: Server, base: dict[str, Any],
                  now_level: int, want_level: int, facts: dict[str, Any]) -> None:
    """Apply update levels now_level+1..want_level one by one, as `facts` describe them
    (`updates`, `platform_version`)."""
    name = base["server"]
    product = ctx.spec.env.products[server.product]
    prod_name, version = _product_names(ctx, server)
    packages = PurePath(ctx.spec.path(product.updates or "."))
    descriptors = facts.get("updates", {})
    overwrite = server.conflicts == "overwrite"
    kernel = facts.get("platform_version") or "<kernel>"
    for level in range(max(now_level, 0) + 1, want_level + 1):
        info = descriptors.get(str(level), {})
        found = list(info.get("conflicts", []))
        package = info.get("package") or str(packages / update_package_name(kernel, level))
        chain.add(f"update-{level:04d}", "server.update",
                  f"apply update level {level} to {name} ({PurePath(package).name})",
                  {**base, "level": level, "product_name": prod_name, "product_version": version,
                   "platform_version": info.get("platform_version") or kernel,
                   "package": package, "updates": str(packages),
                   "pack": str(ctx.spec.path(product.pack)), "conflicts": server.conflicts,
                   "added": info.get("added", []), "modified": info.get("modified", []),
                   "removed": info.get("removed", []),
                   "instructions": info.get("instructions", ""),
                   "notes": list(info.get("notes", [])),
                   "problems": [*info.get("problems", []), *([] if overwrite else found)],
                   "overwrites": found if overwrite else []})


def _plan_removal(change: Change, ctx: PlanContext, name: str) -> list[Action]:
    recorded = ctx.recorded.get(change.address, {})
    data = ctx.recorded_data.get(change.address, {})
    home = str(recorded.get("home") or "")
    if not home:
        return []  # nothing recorded to stop or archive; the record is simply dropped
    host_root = str(data.get("host_root") or PurePath(home).parent)
    base = {"server": name, "home": home, "host_root": host_root,
            **({"host": data["host"]} if data.get("host") else {})}
    chain = Chain(change.address)
    stop = (data.get("service") or {}).get("stop")
    if stop:
        chain.add("stop", "server.stop", f"stop {name} (removed from the spec)",
                  {**base, "stop": stop, "if_running": True}, risky=True)
    archive = PurePath(host_root) / ".drydock" / "archived" / f"{name}-{ctx.plan_id}.tar.zst"
    chain.add("archive", "server.archive",
              f"archive {name}'s home to {archive.name}, verify it, then remove the home",
              {**base, "archive": str(archive)}, risky=True)
    return chain.actions


def declared_mode(config: object) -> int | None:
    """The file mode the spec sets, or None (the writer picks: 0600 when secrets go in)."""
    fields = getattr(config, "model_fields_set", set())
    return getattr(config, "mode", None) if "mode" in fields else None
