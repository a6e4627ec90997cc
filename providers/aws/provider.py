"""The AWS provider: runs `rds.restore` and `rds.delete-instance` actions.

`rds.restore` params: `repository` (a `type: aws` repository), `series`, `snapshot_id`,
`identifier` (the NEW instance), optional `region` (must be the repository's: RDS
restores a snapshot only in its own region), `scratch` (tag the instance as a drill's
scratch instance) and `instance_class`. Its outcome data is the instance's identifier,
region, endpoint `address`/`port`, engine and allocated storage.

`rds.delete-instance` params: `identifier` and `region`; only scratch-tagged instances
are deleted (see `providers.aws.rds_restore`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed, ActionOutcome, Provider
from providers.aws.rds_instances import rds_endpoint
from providers.aws.rds_restore import RdsInstances, RestoredInstance
from providers.databases.errors import DatabaseError
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_store


def instance_data(instance: RestoredInstance) -> dict[str, Any]:
    """What an action records about a restored instance (no secrets)."""
    return {"identifier": instance.identifier, "region": instance.region,
            "address": instance.address, "port": instance.port, "engine": instance.engine,
            "allocated_storage_bytes": instance.allocated_storage_bytes,
            "status": instance.status}


def restore_snapshot(ctx: ActionContext, params: dict[str, Any]) -> RestoredInstance:
    """Restore the snapshot `params` name into a new instance and wait for it.

    Takes the action context and `rds.restore` params. Returns the available instance.
    Raises RepositoryError (not an aws repository, snapshot missing or not available) or
    DatabaseError (identifier taken, RDS refused, waited too long).
    """
    from providers.aws.rds import RdsSnapshotStore

    store = open_store(ctx.spec, params["repository"])
    if not isinstance(store, RdsSnapshotStore):
        raise RepositoryError(f"repository {params['repository']!r} holds no RDS snapshots; "
                              "rds.restore needs a type: aws repository")
    region = params.get("region") or store.region
    if region != store.region:
        raise RepositoryError(
            f"repository {store.name} is in {store.region} but instance "
            f"{params['identifier']!r} is wanted in {region}; copy the snapshot to a "
            f"repository in {region} and restore from there")
    snap = store.find(params["series"], params["snapshot_id"])
    if snap is None or not snap.available:
        state = "not found" if snap is None else f"not available (status {snap.status})"
        raise RepositoryError(f"repository {store.name}: snapshot {params['series']}/"
                              f"{params['snapshot_id']} is {state}")
    instances = RdsInstances(store.endpoint, wait=store.wait)
    return instances.restore(snap.identifier, params["identifier"],
                             scratch=bool(params.get("scratch")),
                             instance_class=params.get("instance_class"),
                             progress=ctx.progress)


def delete_scratch(ctx: ActionContext, identifier: str, region: str) -> bool:
    """Delete the scratch instance `identifier` of `region` (see RdsInstances).

    Returns True when a delete was requested, False when it was already gone. Raises
    DatabaseError when it is not a scratch instance or RDS refused.
    """
    return RdsInstances(rds_endpoint(ctx.spec, region)).delete_scratch(identifier)


class AwsProvider(Provider):
    """AWS actions that are not backups: restoring RDS snapshots, removing scratch ones."""

    action_types: ClassVar[tuple[str, ...]] = ("rds.restore", "rds.delete-instance")

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Restore an RDS snapshot into a new instance, or delete a scratch instance."""
        p = action.params
        try:
            if action.type == "rds.restore":
                made = restore_snapshot(ctx, p)
                return ActionOutcome(
                    message=f"restored {p['series']}/{p['snapshot_id']} into RDS instance "
                            f"{made.identifier} ({made.address}:{made.port})",
                    data={"instance": instance_data(made)})
            deleted = delete_scratch(ctx, p["identifier"], p["region"])
        except (RepositoryError, DatabaseError) as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        word = "deletion requested" if deleted else "already gone"
        return ActionOutcome(message=f"scratch RDS instance {p['identifier']}: {word}")
