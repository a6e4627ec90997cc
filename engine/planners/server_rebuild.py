"""Plan the rebuild of a server's home asked for with `--replace` (pure).

The server change of the runbook with a pack replacement at its heart: back up (patches,
conf, updates, declared config) → stop → replace the home with a fresh one from the pack
of the server's level (or the product pack, then its update levels one by one) → install
every declared patch from its archive → write every declared config file → start →
health. Runtime data (deployments, tenants, keystores, databases) is carried over by the
replacement; the old home is kept beside for the swap back, and the pre-change backup
compensates every step, as for any server change.
"""

from __future__ import annotations

from typing import Any

from engine.contracts.models import Action, Change
from engine.contracts.names import patch_dir
from engine.planners.base import Chain, PlanContext, PlanningError
from engine.planners.server import (
    BACKUP_PATHS,
    add_patches,
    change_backup_dir,
    replace_pack,
    restore_steps,
    server_base,
    service_params,
    start_and_check,
    update_levels,
    write_config,
)
from engine.replacing import REASON


def plan_rebuild(change: Change, ctx: PlanContext) -> list[Action]:
    """The ordered actions rebuilding the existing server of `change`.

    Raises PlanningError naming the server when the observation says the rebuild cannot
    be done (no usable pack, a level below the pack's own)."""
    address = change.address
    name = address.split(".", 1)[1]
    observed = ctx.observed.get(address)
    rebuild: dict[str, Any] = (observed.facts.get("rebuild") or {}) if observed else {}
    if observed is None or not observed.exists or not rebuild:
        raise PlanningError(f"{address}: --replace needs its home observed; plan with "
                            "--refresh (the default)")
    if rebuild.get("problems"):
        raise PlanningError(f"{address}: cannot rebuild it (--replace): "
                            f"{rebuild['problems'][0]}")
    server = ctx.spec.env.servers[name]
    desired = ctx.desired[address]
    base = {**server_base(ctx, name), "home": desired.attributes["home"]}
    service = service_params(server)
    seen_level = observed.attributes.get("update_level")
    now_level = -1 if seen_level is None else int(seen_level)
    level, pack_level = int(rebuild["level"]), int(rebuild["pack_level"])
    chain = Chain(address, transaction=True,
                  group=server.rollout.group if server.rollout else None)
    backup_dir = change_backup_dir(base, ctx.plan_id)
    params: dict[str, Any] = {
        **base, **service, "backup_dir": backup_dir,
        "paths": [*BACKUP_PATHS, *sorted(k.removeprefix("config:") for k in desired.attributes
                                         if k.startswith("config:"))]}
    if level > now_level:
        params["levels"] = {"from": now_level, "to": level, "strategy": "replace"}
    chain.add("backup", "server.backup",
              f"back up patches, conf and updates of {name} before rebuilding it", params,
              compensation=restore_steps(base, service, backup_dir))
    if service:
        chain.add("stop", "server.stop", f"stop {name}", {**base, **service})
    replace_pack(chain, ctx, server, base, rebuild["pack"], now_level, pack_level,
                 keep_patches=[], problems=[], why=f", rebuilding it ({REASON})")
    update_levels(chain, ctx, server, base, pack_level, level, rebuild)
    add_patches(chain, ctx, server, base, sorted(patch_dir(p) for p in server.patches),
                observed.facts)
    write_config(chain, server, base, desired, {})
    start_and_check(chain, base, service)
    return chain.actions
