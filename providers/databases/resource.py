"""Database resources: observe that a declared database exists; create a missing one.

Observation goes through the database engines (SQLite file, PostgreSQL, MariaDB/MySQL):
existence, size and a schema-and-row-count fingerprint as facts. A database that cannot
be reached is an observation error naming it, so the plan stops with one clear line.
"""

from __future__ import annotations

from typing import ClassVar

from engine.model import Action, ObservedResource
from providers.base import ActionContext, ActionFailed, ActionOutcome, ObserveRequest, Provider
from providers.databases.base import engine_for
from providers.databases.errors import DatabaseError
from providers.databases.targets import target_for


class DatabaseProvider(Provider):
    """Existence and fingerprints of databases; creation of missing ones."""

    kinds: ClassVar[tuple[str, ...]] = ("database",)
    action_types: ClassVar[tuple[str, ...]] = ("database.create", "database.forget")

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Ask the engine whether the database exists, and its size and fingerprint."""
        attrs = dict(request.desired.attributes if request.desired else request.recorded or {})
        name = request.address.split(".", 1)[1]
        if name not in request.spec.env.databases:
            return ObservedResource(address=request.address, exists=bool(request.recorded),
                                    attributes=attrs)
        if attrs.get("engine") == "rds":
            return ObservedResource(address=request.address, exists=True, attributes=attrs)
        try:
            target = target_for(request.spec, name, request.resolve_secret)
            seen = engine_for(target.engine).observe(target)
        except DatabaseError as exc:
            raise ValueError(str(exc)) from exc
        return ObservedResource(address=request.address, exists=seen.exists, attributes=attrs,
                                facts={"size": seen.size_bytes, "fingerprint": seen.fingerprint})

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Create an empty database, or forget one (data is never dropped)."""
        if action.type == "database.forget":
            return ActionOutcome(message="forgotten; its data is left in place")
        try:
            target = target_for(ctx.spec, action.params["name"], ctx.resolve_secret)
            created = engine_for(target.engine).create(target)
        except DatabaseError as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        return ActionOutcome(message=f"created {target.label}" if created else
                             f"{target.label} already exists")
