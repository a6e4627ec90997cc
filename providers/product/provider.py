"""The carbon product provider: observes server homes and runs server actions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from engine.model import Action, ObservedResource
from providers.base import ActionContext, ActionFailed, ActionOutcome, ObserveRequest, Provider
from providers.hosts.base import Transport
from providers.hosts.local import LocalTransport
from providers.pathsafety import contained
from providers.product import change_backup, patches, service
from providers.product.observe import observe_server

Handler = Callable[[Action, ActionContext], ActionOutcome]


class CarbonProvider(Provider):
    """Servers of the carbon layout: config, patches, change backups, service lifecycle."""

    kinds: ClassVar[tuple[str, ...]] = ("server",)
    action_types: ClassVar[tuple[str, ...]] = (
        "server.backup", "server.restore-backup", "server.stop", "server.start",
        "server.health", "server.patch.add", "server.patch.remove", "server.config",
    )

    def __init__(self, transport: Transport | None = None) -> None:
        self.transport = transport or LocalTransport()
        self._handlers: dict[str, Handler] = {
            "server.backup": self._backup,
            "server.restore-backup": self._restore,
            "server.stop": self._stop,
            "server.start": self._start,
            "server.health": self._health,
            "server.patch.add": self._patch_add,
            "server.patch.remove": self._patch_remove,
            "server.config": self._config,
        }

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Read the server's home (update level, patches, config digests)."""
        return observe_server(request)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Dispatch to the handler of the action's type."""
        try:
            return self._handlers[action.type](action, ctx)
        except (OSError, ValueError) as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc

    @staticmethod
    def _home(action: Action) -> Path:
        return Path(action.params["home"])

    def _backup(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        home = self._home(action)
        existed = change_backup.take_backup(home, Path(action.params["backup_dir"]),
                                            action.params["paths"])
        kept = sum(existed.values())
        return ActionOutcome(message=f"backed up {kept} paths to {action.params['backup_dir']}",
                             data={"last_change_backup": action.params["backup_dir"]})

    def _restore(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        done = change_backup.restore_backup(self._home(action), Path(action.params["backup_dir"]),
                                            only=action.params.get("only"))
        return ActionOutcome(message=f"restored {len(done)} paths from the change backup")

    def _stop(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        params: dict[str, Any] = action.params
        if "stop" not in params:
            return ActionOutcome(message="no service declared; nothing to stop")
        home = self._home(action)
        if not home.is_dir() and params.get("if_running"):
            return ActionOutcome(message="home is gone; nothing to stop")
        out = service.run_service_command(self.transport, home, params["stop"],
                                          f"stopping {params['server']}")
        return ActionOutcome(message=out or "stopped")

    def _start(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        out = service.run_service_command(self.transport, self._home(action),
                                          action.params["start"],
                                          f"starting {action.params['server']}")
        return ActionOutcome(message=out or "started")

    def _health(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        health = action.params.get("health")
        if not health:
            return ActionOutcome(message="no health check declared")
        return ActionOutcome(message=service.wait_healthy(
            self.transport, self._home(action), health, action.params["server"]))

    def _patch_add(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        target = patches.install_patch(self._home(action), Path(p["archive"]), p["patch_id"],
                                       p["patch_dir"])
        return ActionOutcome(message=f"installed {p['patch_id']} as {target.name}")

    def _patch_remove(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        removed = patches.remove_patch(self._home(action), action.params["patch_dir"])
        return ActionOutcome(message="removed" if removed else "already absent")

    def _config(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        data = p["content"].encode("utf-8")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != p["sha256"]:
            raise ActionFailed(f"{action.id}: content digest mismatch (plan corrupted?)")
        target = contained(self._home(action), p["path"], what="config path")
        self.transport.put_file(target, data, mode=int(p.get("mode", 0o644)))
        return ActionOutcome(message=f"wrote {p['path']} ({len(data)} bytes)")
