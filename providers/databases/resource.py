"""Database resources: observe that a declared database exists; create a missing one.

Observation goes through the database engines (SQLite file, PostgreSQL, MariaDB/MySQL):
existence, size and a schema-and-row-count fingerprint as facts. An RDS instance is
described through the RDS API (status, engine, storage); drydock never creates one, so a
missing instance is an observation error like an unreachable database: the plan stops
with one clear line naming it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ActionContext,
    ActionFailed,
    ActionOutcome,
    ObserveRequest,
    Provider,
)
from engine.spec.models import RdsDatabase
from providers.databases.engines import engine_for
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
        db = request.spec.env.databases[name]
        if isinstance(db, RdsDatabase):
            return _observe_rds(request, db, attrs)
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
        db = ctx.spec.env.databases.get(action.params["name"])
        if isinstance(db, RdsDatabase):
            raise ActionFailed(f"{action.id}: RDS instance {db.identifier!r} is not in region "
                               f"{db.region}; drydock does not create RDS instances: create "
                               "it in AWS, or restore a snapshot into it with 'drydock "
                               f"restore SNAPSHOT --to {action.address}', then apply again")
        try:
            target = target_for(ctx.spec, action.params["name"], ctx.resolve_secret)
            created = engine_for(target.engine).create(target)
        except DatabaseError as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        return ActionOutcome(message=f"created {target.label}" if created else
                             f"{target.label} already exists")


def _observe_rds(request: ObserveRequest, db: RdsDatabase,
                 attrs: dict[str, Any]) -> ObservedResource:
    """Describe the instance. A missing one is observed as absent: the plan then warns and
    its create action refuses, so the rest of the plan (or a restore into it) goes on."""
    from providers.aws.rds_instances import describe_instance, rds_endpoint

    where = rds_endpoint(request.spec, db.region, db.endpoint_url)
    try:
        found = describe_instance(db.identifier, where)
    except DatabaseError as exc:
        raise ValueError(str(exc)) from exc
    if found is None:
        return ObservedResource(address=request.address, exists=False, attributes=attrs,
                                facts={"endpoint": where.url("rds")})
    return ObservedResource(address=request.address, exists=True, attributes=attrs,
                            facts=found.facts())
