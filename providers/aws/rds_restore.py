"""Restore an RDS snapshot into a new instance, wait for it, and delete scratch instances.

A restore never lands on an existing instance: an identifier that is taken is refused.
A scratch restore (drills) tags the new instance ``drydock:scratch=true``; only instances
carrying that tag are ever deleted by drydock (without a final snapshot). Waiting uses
boto3's ``db_instance_available`` waiter bounded by `RdsWait`, reporting progress between
rounds of polls.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from providers.aws.clients import AwsEndpoint, error_code, make_client, translated
from providers.aws.rds import RdsWait
from providers.aws.rds_model import GIB
from providers.aws.waiting import Progress, WaitFailures, quiet, wait_bounded
from providers.databases.errors import DatabaseError

SCRATCH_KEY = "drydock:scratch"
SCRATCH_VALUE = "true"
TAG_RESTORED_FROM = "drydock:restored-from"
_NO_INSTANCE = {"DBInstanceNotFound", "DBInstanceNotFoundFault"}
_EXISTS = {"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"}


class RdsRestoreError(DatabaseError):
    """Restoring an RDS snapshot or deleting a scratch instance failed (one line)."""


class RestoredInstance(BaseModel):
    """An RDS instance as DescribeDBInstances reports it, with its endpoint and tags."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifier: str
    region: str
    arn: str
    status: str
    engine: str
    allocated_storage_bytes: int = 0
    address: str | None = None
    port: int | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def scratch(self) -> bool:
        """True when a drydock drill restored this instance as scratch."""
        return (SCRATCH_KEY, SCRATCH_VALUE) in self.tags


class RdsInstances:
    """RDS instances of one region (at `endpoint.endpoint_url` when given).

    `client` lets a caller supply a ready boto3 RDS client; `wait` bounds the waiting.
    """

    def __init__(self, endpoint: AwsEndpoint, *, wait: RdsWait | None = None,
                 client: Any = None) -> None:
        self.endpoint = endpoint
        self.wait = wait or RdsWait()
        self._client_obj = client

    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = make_client("rds", self.endpoint)
        return self._client_obj

    def _subject(self, identifier: str) -> str:
        return f"RDS instance {identifier!r} in {self.endpoint.region}"

    def describe(self, identifier: str) -> RestoredInstance | None:
        """The instance called `identifier`, with its tags, or None when there is none.

        Raises RdsRestoreError when RDS refuses or cannot be reached.
        """
        from botocore.exceptions import ClientError

        with translated(RdsRestoreError, subject=self._subject(identifier),
                        operation="describe instance", service="rds", where=self.endpoint):
            try:
                items = self._client().describe_db_instances(
                    DBInstanceIdentifier=identifier).get("DBInstances") or []
            except ClientError as exc:
                if error_code(exc) in _NO_INSTANCE:
                    return None
                raise
            if not items:
                return None
            item = items[0]
            arn = str(item.get("DBInstanceArn", ""))
            tag_list = item.get("TagList")
            if tag_list is None and arn:
                tag_list = self._client().list_tags_for_resource(
                    ResourceName=arn).get("TagList", [])
        endpoint = item.get("Endpoint") or {}
        port = endpoint.get("Port")
        return RestoredInstance(
            identifier=identifier, region=self.endpoint.region, arn=arn,
            status=str(item.get("DBInstanceStatus", "unknown")),
            engine=str(item.get("Engine", "")),
            allocated_storage_bytes=int(item.get("AllocatedStorage") or 0) * GIB,
            address=endpoint.get("Address"), port=int(port) if port else None,
            tags=tuple((str(t.get("Key", "")), str(t.get("Value", "")))
                       for t in tag_list or ()))

    def restore(self, snapshot: str, identifier: str, *, scratch: bool,
                instance_class: str | None = None,
                progress: Progress = quiet) -> RestoredInstance:
        """Restore snapshot `snapshot` (identifier or ARN) into NEW instance `identifier`.

        Takes the snapshot, the new identifier, whether it is a drill's scratch instance
        (tagged so it may be deleted later), an optional instance class (default: the
        snapshot's) and a progress callback. Returns the instance once ``available``.
        Raises RdsRestoreError when the identifier is taken, RDS refuses, or it is not
        available within the wait.
        """
        subject = self._subject(identifier)
        if self.describe(identifier) is not None:
            raise RdsRestoreError(
                f"{subject} already exists; a restore never replaces an instance — delete "
                "it or name another identifier")
        tags = [{"Key": TAG_RESTORED_FROM, "Value": snapshot[:256]}]
        if scratch:
            tags.append({"Key": SCRATCH_KEY, "Value": SCRATCH_VALUE})
        request: dict[str, Any] = {"DBInstanceIdentifier": identifier,
                                   "DBSnapshotIdentifier": snapshot, "Tags": tags}
        if instance_class:
            request["DBInstanceClass"] = instance_class
        try:
            with translated(RdsRestoreError, subject=subject,
                            operation=f"restore from snapshot {snapshot}", service="rds",
                            where=self.endpoint):
                self._client().restore_db_instance_from_db_snapshot(**request)
        except RdsRestoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, Exception) and error_code(cause) in _EXISTS:
                raise RdsRestoreError(
                    f"{subject} was created by someone else meanwhile; a restore never "
                    "replaces an instance — name another identifier") from None
            raise
        progress(f"{subject}: restore from snapshot {snapshot} started")
        return self.wait_available(identifier, progress)

    def wait_available(self, identifier: str, progress: Progress = quiet) -> RestoredInstance:
        """Wait (bounded by `wait`) until the instance is ``available``; returns it.

        Raises RdsRestoreError when it vanishes, fails, or is still pending at the end.
        """
        subject = self._subject(identifier)

        def timed_out(status: str, waited: str) -> RdsRestoreError:
            return RdsRestoreError(f"{subject}: still {status} after {waited}; it goes on in "
                                   "AWS — wait for it, then run again")

        wait_bounded(self._client().get_waiter("db_instance_available"),
                     {"DBInstanceIdentifier": identifier}, self.wait,
                     calling=lambda: translated(RdsRestoreError, subject=subject,
                                                operation="wait for instance", service="rds",
                                                where=self.endpoint),
                     pending=_status, failed=lambda exc: _FAILS.of(subject, exc, _state),
                     timed_out=timed_out, progress=progress, subject=subject)
        found = self.describe(identifier)
        if found is None:
            raise RdsRestoreError(f"{subject}: vanished while waiting for it")
        return found

    def delete_scratch(self, identifier: str, *, missing_ok: bool = True) -> bool:
        """Delete a drill's scratch instance without a final snapshot.

        Only an instance tagged ``drydock:scratch=true`` is deleted; anything else is
        refused. Returns True when a delete was requested, False when the instance was
        already gone (and `missing_ok`). Raises RdsRestoreError otherwise.
        """
        from botocore.exceptions import ClientError

        subject = self._subject(identifier)
        found = self.describe(identifier)
        if found is None:
            if missing_ok:
                return False
            raise RdsRestoreError(f"{subject} not found; nothing to delete")
        if not found.scratch:
            raise RdsRestoreError(
                f"{subject} is not a drill's scratch instance (no tag "
                f"{SCRATCH_KEY}={SCRATCH_VALUE}); drydock only deletes instances it restored "
                "as scratch — delete it yourself if it must go")
        with translated(RdsRestoreError, subject=subject, operation="delete instance",
                        service="rds", where=self.endpoint):
            try:
                self._client().delete_db_instance(DBInstanceIdentifier=identifier,
                                                  SkipFinalSnapshot=True)
            except ClientError as exc:
                if error_code(exc) in _NO_INSTANCE and missing_ok:
                    return False
                raise
        return True


def _status(response: Any) -> str:
    items = (response or {}).get("DBInstances") or [{}]
    return str(items[0].get("DBInstanceStatus", "unknown"))


def _state(response: Any) -> str:
    return f"status {_status(response)}"


_FAILS = WaitFailures(label="RDS", things="instances", gone=frozenset(_NO_INSTANCE),
                      missing=RdsRestoreError, error=RdsRestoreError,
                      advice="the restore failed — look at the instance's events in AWS")
