"""Observe an RDS instance a spec declares: whether it exists, its status and engine.

The spec's `{engine: rds, identifier, region}` has no endpoint of its own: calls go to
the `endpoint_url` of the first `type: aws` repository declared in the same region (the
one its snapshots go to), else to boto3's default for the region (which honours
``AWS_ENDPOINT_URL_RDS``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from engine.spec.loader import LoadedSpec
from providers.aws.clients import (
    AwsEndpoint,
    error_code,
    make_client,
    region_endpoint,
    translated,
)
from providers.aws.rds_model import GIB
from providers.databases.errors import DatabaseError, DatabaseUnavailable

_NO_INSTANCE = {"DBInstanceNotFound", "DBInstanceNotFoundFault"}


class RdsInstance(BaseModel):
    """What DescribeDBInstances says about one instance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identifier: str
    arn: str
    status: str
    engine: str
    engine_version: str | None = None
    allocated_storage_bytes: int = 0
    encrypted: bool = False

    def facts(self) -> dict[str, Any]:
        """The instance as observed facts."""
        return self.model_dump(mode="json", exclude={"identifier"})


def rds_endpoint(spec: LoadedSpec, region: str, declared: str | None = None) -> AwsEndpoint:
    """Where the RDS API of `region` is reached: the database's own `endpoint_url` when it
    declares one, else as the module docstring says."""
    return region_endpoint(spec.env.repositories.values(), region, declared)


def describe_instance(identifier: str, where: AwsEndpoint,
                      client: Any = None) -> RdsInstance | None:
    """The instance called `identifier` in `where.region`, or None when there is none.

    Takes the identifier, the endpoint and optionally a ready boto3 RDS client. Raises
    DatabaseUnavailable (endpoint unreachable, no credentials) or DatabaseError (refused).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    subject = f"RDS instance {identifier!r} in {where.region}"
    rds = client or make_client("rds", where)
    try:
        with translated(DatabaseError, subject=subject, operation="describe instance",
                        service="rds", where=where):
            try:
                found = rds.describe_db_instances(DBInstanceIdentifier=identifier)
            except ClientError as exc:
                if error_code(exc) in _NO_INSTANCE:
                    return None
                raise
    except DatabaseError as exc:
        if isinstance(exc.__cause__, BotoCoreError):
            raise DatabaseUnavailable(str(exc)) from exc.__cause__
        raise
    items = found.get("DBInstances") or []
    if not items:
        return None
    item = items[0]
    return RdsInstance(identifier=identifier, arn=str(item.get("DBInstanceArn", "")),
                       status=str(item.get("DBInstanceStatus", "unknown")),
                       engine=str(item.get("Engine", "")),
                       engine_version=item.get("EngineVersion"),
                       allocated_storage_bytes=int(item.get("AllocatedStorage") or 0) * GIB,
                       encrypted=bool(item.get("StorageEncrypted")))
