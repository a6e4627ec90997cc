"""RDS snapshots of one region as a drydock snapshot store: list, create, copy, verify, delete.

A snapshot belongs to a series through its tags (see `providers.aws.rds_model`), so the
catalog is rebuilt from AWS alone. Only ``available`` snapshots are listed (like a
manifest-less snapshot, one still being made does not exist yet). Creating and copying
are idempotent: an identifier that already exists is waited for and returned. Waiting
uses boto3's ``db_snapshot_available`` waiter, bounded by `RdsWait` (2 hours by default)
and reporting progress every few minutes. The idempotent create / copy / wait are
`AwsStore`'s, shared with AMIs; this module says what RDS is asked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from providers.aws.clients import error_code
from providers.aws.rds_model import (
    PREFIX,
    RdsSnapshot,
    parse_snapshot,
    snapshot_identifier,
    snapshot_tags,
)
from providers.aws.store_base import AwsStore
from providers.aws.waiting import AwsWait, Progress, WaitFailures, quiet
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.repositories.manifest import SnapshotFields

DEFAULT_KMS_KEY = "alias/aws/rds"
_NOT_FOUND = {"DBSnapshotNotFound", "DBSnapshotNotFoundFault"}
_EXISTS = {"DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"}
_NO_INSTANCE = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault"})


RdsWait = AwsWait
"""The bounds of RDS waits (see `providers.aws.waiting.AwsWait`)."""


class RdsSnapshotStore(AwsStore):
    """The drydock RDS snapshots of `region` (reached at `endpoint_url` when given).

    `kms_key_id` is the key cross-region copies are encrypted with in this region
    (default: AWS's ``alias/aws/rds`` when the source is encrypted); `client` lets a
    caller supply a ready boto3 RDS client.

    >>> store = RdsSnapshotStore("rds-dr", "eu-central-1")  # doctest: +SKIP
    """

    service: ClassVar[str] = "rds"
    things: ClassVar[str] = "RDS snapshots"
    waiter: ClassVar[str] = "db_snapshot_available"
    duplicate: ClassVar[frozenset[str]] = frozenset(_EXISTS)
    failures: ClassVar[WaitFailures] = WaitFailures(
        label="RDS", things="snapshots", gone=frozenset(_NOT_FOUND), missing=SnapshotNotFound,
        error=RepositoryError, advice="the snapshot failed, delete it and apply again")

    def _where(self, series: str, snapshot_id: str) -> str:
        return (f"repository {self.name}: snapshot {series}/{snapshot_id} (RDS "
                f"{snapshot_identifier(series, snapshot_id)} in {self.region})")

    # ----- reading ----------------------------------------------------------------------

    def snapshots(self, series: str | None = None) -> list[RdsSnapshot]:
        """Available drydock snapshots here (of `series` if given), oldest first."""
        return [s for s in self.every_item()
                if s.available and (series is None or s.series == series)]

    def every_item(self) -> list[RdsSnapshot]:
        """Every drydock snapshot here in any status, oldest first."""
        found: list[RdsSnapshot] = []
        with self._calling("list snapshots"):
            pages = self._client().get_paginator("describe_db_snapshots")
            for page in pages.paginate(SnapshotType="manual"):
                for item in page.get("DBSnapshots", []):
                    if not str(item.get("DBSnapshotIdentifier", "")).startswith(PREFIX):
                        continue
                    snap = parse_snapshot(item, self.region)
                    if snap is not None:
                        found.append(snap)
        found.sort(key=lambda s: (s.created, s.id))
        return found

    def find(self, series: str, snapshot_id: str) -> RdsSnapshot | None:
        """The snapshot of `series`/`snapshot_id` in any status, or None when absent.

        Raises RepositoryError when its identifier is taken by something that is not
        that drydock snapshot (no tags, or another series' tags).
        """
        from botocore.exceptions import ClientError

        where = self._where(series, snapshot_id)
        identifier = snapshot_identifier(series, snapshot_id)
        with self._calling("describe snapshot", where):
            try:
                items = self._client().describe_db_snapshots(
                    DBSnapshotIdentifier=identifier).get("DBSnapshots", [])
            except ClientError as exc:
                if error_code(exc) in _NOT_FOUND:
                    return None
                raise
        if not items:
            return None
        snap = parse_snapshot(items[0], self.region)
        if snap is None or (snap.series, snap.id) != (series, snapshot_id):
            raise RepositoryError(
                f"{where}: identifier {identifier} is taken by a snapshot without drydock's "
                "tags for it; rename or delete that snapshot")
        return snap

    # ----- changing ---------------------------------------------------------------------

    def delete(self, series: str, snapshot_id: str, *, missing_ok: bool = False) -> None:
        """Delete the snapshot; raises SnapshotNotFound when absent unless `missing_ok`."""
        from botocore.exceptions import ClientError

        where = self._where(series, snapshot_id)
        snap = self.find(series, snapshot_id)
        if snap is None:
            if missing_ok:
                return
            raise SnapshotNotFound(f"{where}: not found")
        with self._calling("delete snapshot", where):
            try:
                self._client().delete_db_snapshot(DBSnapshotIdentifier=snap.identifier)
            except ClientError as exc:
                if not (missing_ok and error_code(exc) in _NOT_FOUND):
                    raise

    def create(self, series: str, snapshot_id: str, *, instance: str, fields: SnapshotFields,
               progress: Progress = quiet) -> tuple[RdsSnapshot, bool]:
        """Snapshot RDS instance `instance` as `series`/`snapshot_id` and wait for it.

        Takes the series, id, instance identifier, the fields drydock records (created,
        source address, tags) and a progress callback. Returns the available snapshot
        and whether this call created it (False: it existed already). Raises
        RepositoryError (instance missing, AWS refused, waited too long).
        """
        where = self._where(series, snapshot_id)
        tags = snapshot_tags(series, snapshot_id, created=fields.created,
                             source=fields.source.address, tags=fields.tags)

        def start() -> bool:
            return self._start(
                where, f"create snapshot of instance {instance}",
                lambda: self._client().create_db_snapshot(
                    DBSnapshotIdentifier=snapshot_identifier(series, snapshot_id),
                    DBInstanceIdentifier=instance, Tags=tags),
                missing=_NO_INSTANCE,
                missing_text=f"RDS instance {instance!r} not found in region {self.region} "
                             f"at {self.endpoint.url('rds')}; check the database's identifier "
                             "and region (drydock does not create RDS instances)")

        return self._create_with(series, snapshot_id, start,
                                 f"started from instance {instance}", progress)

    def copy_from(self, other: RdsSnapshotStore, series: str, snapshot_id: str, *,
                  progress: Progress = quiet) -> tuple[RdsSnapshot, bool]:
        """Copy an available snapshot from `other` (another region) here, and wait for it.

        Tags travel with the copy, so it is listed under the same series and id. An
        encrypted source is re-encrypted with this store's `kms_key_id` (default: the
        region's ``alias/aws/rds``). Returns the available copy and whether this call
        made it. Raises SnapshotNotFound (not available in `other`) or RepositoryError.
        """
        where = self._where(series, snapshot_id)

        def start(source: RdsSnapshot) -> bool:
            request: dict[str, Any] = {
                "SourceDBSnapshotIdentifier": source.arn,
                "TargetDBSnapshotIdentifier": snapshot_identifier(series, snapshot_id),
                "SourceRegion": other.region,
                "Tags": source.copy_tags(), "CopyTags": False}
            key = self.kms_key_id or (DEFAULT_KMS_KEY if source.encrypted else None)
            if key is not None:
                request["KmsKeyId"] = key
            return self._start(where, f"copy from {other.region}",
                               lambda: self._client().copy_db_snapshot(**request))

        return self._copy_with(other, series, snapshot_id, start, progress)

    # ----- waiting ----------------------------------------------------------------------

    def _waiter_args(self, series: str, snapshot_id: str) -> dict[str, Any]:
        return {"DBSnapshotIdentifier": snapshot_identifier(series, snapshot_id)}

    @staticmethod
    def _pending(response: Any) -> str:
        items = (response or {}).get("DBSnapshots") or [{}]
        return (f"{items[0].get('Status', 'unknown')} "
                f"({int(items[0].get('PercentProgress') or 0)}%)")

    @staticmethod
    def _state(response: Any) -> str:
        items = (response or {}).get("DBSnapshots") or [{}]
        return f"status {items[0].get('Status', 'unknown')}"
