"""The carbon product provider: observes server homes and runs server actions.

Handlers are thin: each turns an action's params into one call of the module that does
the work (install, updates, replace, downgrade, patches, change backups, service), on the
transport of the host the action names (`host` in its params), taken from the run's pool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from engine.contracts.facts import ChangeBackup
from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ActionContext,
    ActionFailed,
    ActionOutcome,
    ObserveRequest,
    Provider,
)
from engine.contracts.queries import ChangeBackupPort
from engine.spec.loader import LoadedSpec
from engine.spec.secret_tokens import refs_in, substitute
from providers.hosts.base import Transport
from providers.hosts.lanes import lane
from providers.hosts.paths import inside, is_dir, is_file
from providers.hosts.pool import HostPool
from providers.product import (
    change_backup,
    downgrade,
    install,
    level_facts,
    patches,
    replace,
    restore_patches,
    service,
    updates,
)
from providers.product.archive_source import archive_path
from providers.product.observe import observe_server
from providers.product.patch_sources import PatchSources

Handler = Callable[[Action, ActionContext, Transport], ActionOutcome]

WAITING = frozenset({"server.start", "server.stop", "server.health"})
"""Actions that mostly wait for a product's own scripts or its health URL: they hold no
local lane (`providers/hosts/lanes.py`), so ten local servers still start side by side."""


def server_data(params: dict[str, Any]) -> dict[str, Any]:
    """What the state records about a server so it can later be stopped and archived
    after it left the spec: its host, host root and service commands."""
    data: dict[str, Any] = {}
    if params.get("host"):
        data["host"] = params["host"]
    if params.get("host_root"):
        data["host_root"] = params["host_root"]
    if params.get("stop"):
        data["service"] = {"start": params.get("start"), "stop": params["stop"],
                           "health": params.get("health")}
    return data


class CarbonProvider(Provider, ChangeBackupPort):
    """Servers of the carbon layout: install, levels, patches, config, service, archive."""

    kinds: ClassVar[tuple[str, ...]] = ("server",)
    action_types: ClassVar[tuple[str, ...]] = (
        "server.backup", "server.restore-backup", "server.stop", "server.start",
        "server.health", "server.patch.add", "server.patch.remove", "server.config",
        "server.install", "server.update", "server.replace-pack", "server.swap-back",
        "server.downgrade", "server.archive", "server.restore-patches", "server.preflight",
    )

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.hosts = hosts or HostPool()
        self._patch_sources = PatchSources()
        self._handlers: dict[str, Handler] = {
            "server.backup": self._backup,
            "server.restore-backup": self._restore,
            "server.stop": self._stop,
            "server.start": self._start,
            "server.health": self._health,
            "server.patch.add": self._patch_add,
            "server.patch.remove": self._patch_remove,
            "server.config": self._config,
            "server.install": self._install,
            "server.update": self._update,
            "server.replace-pack": self._replace,
            "server.swap-back": self._swap_back,
            "server.downgrade": self._downgrade,
            "server.archive": self._archive,
            "server.restore-patches": self._restore_patches,
            "server.preflight": self._preflight,
        }

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Read a server's home on the server's host."""
        name = request.address.split(".", 1)[1]
        declared = request.spec.env.servers.get(name)
        host = declared.host if declared is not None else request.data.get("host")
        t = self.hosts.get(request.spec, host)
        with lane(t):
            return observe_server(request, t)

    def change_backup(self, spec: LoadedSpec, server: str, backup_id: str) -> ChangeBackup:
        """The change backup `backup_id` (or `latest`) kept on `server`'s host."""
        declared = spec.env.servers.get(server)
        if declared is None:
            raise ValueError(f"server {server!r} is not in the spec")
        return restore_patches.find_change_backup(spec, self.hosts.get(spec, declared.host),
                                                  server, backup_id)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Dispatch to the handler of the action's type, on the host the action names."""
        try:
            t = self.hosts.get(ctx.spec, action.params.get("host"))
            if action.type in WAITING:
                return self._handlers[action.type](action, ctx, t)
            with lane(t):
                return self._handlers[action.type](action, ctx, t)
        except (OSError, ValueError) as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc

    def close(self) -> None:
        """Release the run's host connections and forget the patch folders it made."""
        self.hosts.close()
        self._patch_sources.clear()

    @staticmethod
    def _home(action: Action) -> PurePosixPath:
        return PurePosixPath(action.params["home"])

    def _preflight(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        problems = level_facts.preflight(t, action.params)
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            raise ActionFailed(f"{action.id}: refused before anything changed: "
                               f"{problems[0]}{more}")
        p = action.params
        return ActionOutcome(message=f"level {p['from_level']} → {p['to_level']} "
                                     f"({p['strategy']}) checked; nothing conflicts")

    def _backup(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        backup_dir = PurePosixPath(p["backup_dir"])
        existed = change_backup.take_backup(t, self._home(action), backup_dir, p["paths"])
        levels = p.get("levels")
        if levels:
            downgrade.write_levels(t, backup_dir, levels["from"], levels["to"],
                                   levels["strategy"])
        kept = sum(existed.values())
        return ActionOutcome(message=f"backed up {kept} paths to {backup_dir}",
                             data={"last_change_backup": str(backup_dir), **server_data(p)})

    def _restore(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        done = change_backup.restore_backup(t, self._home(action),
                                            PurePosixPath(action.params["backup_dir"]),
                                            only=action.params.get("only"))
        return ActionOutcome(message=f"restored {len(done)} paths from the change backup")

    def _stop(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        params: dict[str, Any] = action.params
        if not params.get("stop"):
            return ActionOutcome(message="no service declared; nothing to stop")
        home = self._home(action)
        if not is_dir(t, home) and params.get("if_running"):
            return ActionOutcome(message="home is gone; nothing to stop")
        out = service.run_service_command(t, home, params["stop"],
                                          f"stopping {params['server']}")
        return ActionOutcome(message=out or "stopped")

    def _start(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        out = service.run_service_command(t, self._home(action),
                                          action.params["start"],
                                          f"starting {action.params['server']}")
        return ActionOutcome(message=out or "started", data=server_data(action.params))

    def _health(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        health = action.params.get("health")
        if not health:
            return ActionOutcome(message="no health check declared")
        return ActionOutcome(message=service.wait_healthy(
            t, self._home(action), health, action.params["server"]))

    def _patch_add(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        with archive_path(ctx.spec, p, "archive") as archive:
            target = patches.install_patch(t, self._home(action), archive, p["patch_id"],
                                           p["patch_dir"], self._patch_sources)
        return ActionOutcome(message=f"installed {p['patch_id']} as {target.name}")

    def _patch_remove(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        removed = patches.remove_patch(t, self._home(action), action.params["patch_dir"])
        return ActionOutcome(message="removed" if removed else "already absent")

    def _config(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        data = p["content"].encode("utf-8")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != p["sha256"]:
            raise ActionFailed(f"{action.id}: content digest mismatch (plan corrupted?)")
        target = inside(t, self._home(action), p["path"],
                        what=f"server {p.get('server', '?')}: config file")
        secret = bool(refs_in(p["content"]))
        if secret:
            data = substitute(p["content"], ctx.resolve_secret).encode("utf-8")
        mode = p.get("mode")  # None unless the spec sets one; secret values: owner only
        t.write_atomic(target, data, mode=int(mode) if mode is not None
                       else 0o600 if secret else 0o644)
        return ActionOutcome(message=f"wrote {p['path']} ({len(data)} bytes)")

    def _install(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        with archive_path(ctx.spec, action.params, "pack") as pack:
            message = install.install_pack(t, pack, self._home(action))
        return ActionOutcome(message=message, data=server_data(action.params))

    def _update(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        with ExitStack() as opened:
            package = opened.enter_context(archive_path(ctx.spec, p, "package"))
            pack = opened.enter_context(archive_path(ctx.spec, p, "pack")) \
                if p.get("pack") or p.get("pack_artifact") else None
            done = updates.install_level(
                t, self._home(action), package, level=int(p["level"]), pack=pack,
                product=p["product_name"],
                version=p.get("product_version") or p["platform_version"],
                overwrite=p.get("conflicts") == "overwrite")
        if done.already:
            return ActionOutcome(message=f"already at update level {done.level} or above")
        extra = f", overwrote {len(done.overwritten)} conflicting" if done.overwritten else ""
        return ActionOutcome(message=f"installed update level {done.level}: wrote "
                                     f"{len(done.written)} files, removed {len(done.removed)}"
                                     f"{extra}")

    def _replace(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        done = replace.replace_home(t, self._home(action), Path(p["pack"]),
                                    level=int(p["to_level"]),
                                    patches=p.get("keep_patches", []), plan_id=p["plan_id"])
        if done.already:
            return ActionOutcome(message=f"already replaced; the old home is {done.previous}")
        return ActionOutcome(message=f"switched to {Path(p['pack']).name}; carried "
                                     f"{len(done.carried)} paths; old home kept as "
                                     f"{done.previous}", data={"previous_home": done.previous})

    def _swap_back(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        home = self._home(action)
        if p.get("stop") and is_dir(t, home) and \
                is_dir(t, replace.previous_home(home, p["plan_id"])):
            service.run_service_command(t, home, p["stop"],
                                        f"stopping the new home of {p['server']}")
        return ActionOutcome(message=replace.swap_back(t, home, p["plan_id"]))

    def _downgrade(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        p = action.params
        problems = p.get("problems") or []
        if problems or not p.get("chain"):
            raise ActionFailed(f"{action.id}: {problems[0] if problems else 'no change backup'}")
        chain = [downgrade.LevelBackup.model_validate(b) for b in p["chain"]]
        done = downgrade.roll_back(t, self._home(action), chain)
        return ActionOutcome(message=f"rolled back to update level {p['to_level']} from "
                                     f"{len(chain)} change backup(s), {len(done)} paths")

    def _archive(self, action: Action, ctx: ActionContext, t: Transport) -> ActionOutcome:
        home, archive = self._home(action), PurePosixPath(action.params["archive"])
        if not home.is_absolute() or len(home.parts) < 3:
            raise ActionFailed(f"{action.id}: refusing to archive and remove {str(home)!r}; "
                               "the recorded home is not a product home path")
        if not is_dir(t, home):
            return ActionOutcome(message=f"{home} is already gone"
                                 + (f"; its archive is {archive}" if is_file(t, archive)
                                    else ""))
        done = install.archive_home(t, home, archive)
        install.remove_home(t, home, archive)
        return ActionOutcome(message=f"archived {done.files} files to {archive} "
                                     f"({done.bytes} bytes, verified), then removed {home}")

    def _restore_patches(self, action: Action, ctx: ActionContext,
                         t: Transport) -> ActionOutcome:
        p = action.params
        found = restore_patches.restore_patches(t, self._home(action),
                                                PurePosixPath(p["source_dir"]))
        return ActionOutcome(message=f"restored patches {', '.join(found) or '(none)'} from "
                                     f"{p['source']}")
