"""AMIs as a snapshot store on moto over HTTP: made without a reboot unless asked, tagged,
found again by name, copied to another region with the repository's KMS key, deleted
with their EBS snapshots (even ones an interrupted delete left behind)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from providers.aws.clients import AwsEndpoint, make_client
from providers.aws.ec2_images import AmiStore
from providers.aws.ec2_model import image_name
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.repositories.manifest import SnapshotFields, SnapshotSource
from tests.providers.aws.conftest import DR_REGION, REGION

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)
FIELDS = SnapshotFields(source=SnapshotSource(kind="host", address="host.vm-a",
                                              engine="ec2-image"), created=NOW)


def recording_store(endpoint: str, region: str, seen: list[dict[str, Any]], *,
                    kms: str | None = None) -> AmiStore:
    """A store whose client records the parameters of every call it sends."""
    client = make_client("ec2", AwsEndpoint(region=region, endpoint_url=endpoint))
    client.meta.events.register("provide-client-params.ec2.*",
                                lambda params, model, **_: seen.append(
                                    {"op": model.name, **params}))
    return AmiStore(f"images-{region}", region, endpoint, kms_key_id=kms, client=client)


@pytest.fixture
def series() -> str:
    return f"vm-a-image-{uuid.uuid4().hex[:8]}"


def test_an_ami_is_made_without_reboot_tagged_and_listed(
        moto_endpoint: str, ec2_instance: str, series: str,
        ec2_client: Callable[[str], Any]) -> None:
    seen: list[dict[str, Any]] = []
    store = recording_store(moto_endpoint, REGION, seen)
    image, made = store.create(series, "s1", instance_id=ec2_instance, reboot=False,
                               fields=FIELDS)
    assert made and image.available and image.name == image_name(series, "s1")
    create = next(c for c in seen if c["op"] == "CreateImage")
    assert create["NoReboot"] is True and create["InstanceId"] == ec2_instance
    again, made_again = store.create(series, "s1", instance_id=ec2_instance, reboot=True,
                                     fields=FIELDS)
    assert (again.image_id, made_again) == (image.image_id, False)  # idempotent
    _, _ = store.create(series, "s2", instance_id=ec2_instance, reboot=True, fields=FIELDS)
    assert [c["NoReboot"] for c in seen if c["op"] == "CreateImage"] == [True, False]
    assert [m.id for m in store.list(series)] == ["s1", "s2"]
    snapshots = ec2_client(REGION).describe_snapshots(SnapshotIds=list(image.snapshot_ids))
    tags = {t["Key"]: t["Value"] for t in snapshots["Snapshots"][0]["Tags"]}
    assert (tags["drydock:series"], tags["drydock:snapshot-id"]) == (series, "s1")
    assert store.verify(series, "s1").ok


def test_a_copy_goes_to_another_region_encrypted_with_the_repository_key(
        moto_endpoint: str, ec2_instance: str, series: str) -> None:
    seen: list[dict[str, Any]] = []
    east = AmiStore("east", REGION, moto_endpoint)
    west = recording_store(moto_endpoint, DR_REGION, seen, kms="alias/drydock-dr")
    source, _ = east.create(series, "s1", instance_id=ec2_instance, reboot=False, fields=FIELDS)
    copy, made = west.copy_from(east, series, "s1")
    assert made and copy.available and copy.region == DR_REGION
    assert copy.image_id != source.image_id and copy.created == source.created
    request = next(c for c in seen if c["op"] == "CopyImage")
    assert (request["SourceImageId"], request["SourceRegion"]) == (source.image_id, REGION)
    assert (request["Encrypted"], request["KmsKeyId"]) == (True, "alias/drydock-dr")
    assert west.copy_from(east, series, "s1")[1] is False
    with pytest.raises(RepositoryError, match="same region"):
        east.copy_from(AmiStore("east-2", REGION, moto_endpoint), series, "s1")


def test_delete_deregisters_and_removes_every_ebs_snapshot(
        moto_endpoint: str, ec2_instance: str, series: str,
        ec2_client: Callable[[str], Any]) -> None:
    store = AmiStore("east", REGION, moto_endpoint)
    image, _ = store.create(series, "s1", instance_id=ec2_instance, reboot=False, fields=FIELDS)
    ec2 = ec2_client(REGION)
    ec2.deregister_image(ImageId=image.image_id)  # a delete interrupted after deregistering
    store.delete(series, "s1")
    present = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert not present & set(image.snapshot_ids)
    with pytest.raises(SnapshotNotFound):
        store.delete(series, "s1")
    store.delete(series, "s1", missing_ok=True)


def test_a_name_taken_by_someone_elses_image_is_refused(
        moto_endpoint: str, ec2_instance: str, series: str,
        ec2_client: Callable[[str], Any]) -> None:
    ec2_client(REGION).create_image(InstanceId=ec2_instance, Name=image_name(series, "s1"))
    store = AmiStore("east", REGION, moto_endpoint)
    with pytest.raises(RepositoryError, match="without drydock's tags for it"):
        store.create(series, "s1", instance_id=ec2_instance, reboot=False, fields=FIELDS)


def test_a_missing_instance_is_one_line_naming_it(moto_endpoint: str, aws_env: None,
                                                  series: str) -> None:
    store = AmiStore("east", REGION, moto_endpoint)
    with pytest.raises(RepositoryError) as caught:
        store.create(series, "s1", instance_id="i-0000000000000dead", reboot=False,
                     fields=FIELDS)
    assert "EC2 instance 'i-0000000000000dead' not found in region eu-west-1" in str(caught.value)


def test_a_check_finds_an_amis_ebs_snapshot_gone(
        moto_endpoint: str, ec2_instance: str, series: str,
        ec2_client: Callable[[str], Any]) -> None:
    store = recording_store(moto_endpoint, REGION, [])
    image, _ = store.create(series, "s1", instance_id=ec2_instance, reboot=False,
                            fields=FIELDS)
    assert store.item_problems(image) == []
    # AWS (and moto) refuse to delete an EBS snapshot an AMI uses, so the AMI's record is
    # given a snapshot id that was deleted instead: the store asks the real server about it.
    volume = ec2_client(REGION).create_volume(AvailabilityZone=f"{REGION}a", Size=1)
    gone = ec2_client(REGION).create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    ec2_client(REGION).delete_snapshot(SnapshotId=gone)
    problems = store.item_problems(image.model_copy(update={"snapshot_ids": (gone,)}))
    assert problems == [f"its EBS snapshot {gone} is gone; the image cannot be launched: "
                        "delete it and take another"]
