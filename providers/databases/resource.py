"""Database resources: observe that a declared database exists; create a missing one."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

from engine.model import Action, ObservedResource
from providers.base import ActionContext, ActionFailed, ActionOutcome, ObserveRequest, Provider
from providers.product.fingerprints import sha256_file


class DatabaseProvider(Provider):
    """Existence, size and a content fingerprint of databases; creation of missing ones."""

    kinds: ClassVar[tuple[str, ...]] = ("database",)
    action_types: ClassVar[tuple[str, ...]] = ("database.create", "database.forget")

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """SQLite: the file. Server engines: a connection and the database's presence."""
        attrs = dict(request.desired.attributes if request.desired else request.recorded or {})
        if attrs.get("engine") == "sqlite":
            path = Path(attrs["path"])
            if not path.is_file():
                return ObservedResource(address=request.address, exists=False, attributes=attrs)
            return ObservedResource(
                address=request.address, exists=True, attributes=attrs,
                facts={"size": path.stat().st_size, "fingerprint": sha256_file(path)})
        return self._observe_server(request, attrs)

    def _observe_server(self, request: ObserveRequest, attrs: dict) -> ObservedResource:
        from providers.databases.observe_server import observe_server_database

        return observe_server_database(request, attrs)

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Create an empty database, or forget one (data is never dropped)."""
        if action.type == "database.forget":
            return ActionOutcome(message="forgotten; data left in place")
        if action.params.get("engine") == "sqlite":
            path = Path(action.params["path"])
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                sqlite3.connect(path).close()
            except sqlite3.Error as exc:
                raise ActionFailed(f"{action.id}: cannot create {path}: {exc}") from exc
            return ActionOutcome(message=f"created {path}")
        from providers.databases.observe_server import create_server_database

        return create_server_database(action, ctx)
