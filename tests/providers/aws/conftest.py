"""RDS fixtures: a real moto server over HTTP, clients of two regions, a fresh instance.

The moto server is shared by the tests of one process, so every instance and series is
uniquely named and tests look only at their own series.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from providers.aws.rds import RdsSnapshotStore

REGION = "eu-west-1"
DR_REGION = "eu-central-1"


@pytest.fixture
def rds_client(moto_endpoint: str, aws_env: None) -> Callable[[str], Any]:
    """A boto3 RDS client of the moto server for a region, to arrange and inspect."""
    import boto3

    def make(region: str = REGION) -> Any:
        return boto3.client("rds", region_name=region, endpoint_url=moto_endpoint)

    return make


def create_instance(client: Any, *, encrypted: bool = False, storage: int = 20) -> str:
    """A new RDS instance on the moto server; returns its identifier."""
    identifier = f"apim-{uuid.uuid4().hex[:12]}"
    client.create_db_instance(
        DBInstanceIdentifier=identifier, DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=storage, MasterUsername="apim", MasterUserPassword="not-a-secret-1",
        StorageEncrypted=encrypted)
    return identifier


@pytest.fixture
def instance(rds_client: Callable[[str], Any]) -> str:
    """An unencrypted 20 GiB PostgreSQL instance in REGION."""
    return create_instance(rds_client(REGION))


@pytest.fixture
def series() -> str:
    """A series name no other test uses."""
    return f"apim-db-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def stores(moto_endpoint: str, aws_env: None) -> tuple[RdsSnapshotStore, RdsSnapshotStore]:
    """The primary store in REGION and the copy store in DR_REGION."""
    return (RdsSnapshotStore("rds-primary", REGION, endpoint_url=moto_endpoint),
            RdsSnapshotStore("rds-dr", DR_REGION, endpoint_url=moto_endpoint))


@pytest.fixture
def ec2_client(moto_endpoint: str, aws_env: None) -> Callable[[str], Any]:
    """A boto3 EC2 client of the moto server for a region, to arrange and inspect."""
    import boto3

    def make(region: str = REGION) -> Any:
        return boto3.client("ec2", region_name=region, endpoint_url=moto_endpoint)

    return make


@pytest.fixture
def ec2_instance(ec2_client: Callable[[str], Any]) -> str:
    """A running instance in REGION, started from one of moto's stock images."""
    ec2 = ec2_client(REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return ec2.run_instances(ImageId=image, InstanceType="t3.large", MinCount=1, MaxCount=1,
                             TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                 {"Key": "Name", "Value": "gw-1"}]}])["Instances"][0][
        "InstanceId"]
