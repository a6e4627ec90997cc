"""EC2 hosts end to end through the real CLI, on moto's server over HTTP: an instance is
imaged once a day into one region, the AMIs are copied to the DR region, retention
deregisters old AMIs and deletes their EBS snapshots in both, and with the state lost
`recover --site dr` launches the replacement from the newest AMI in the DR region with the
declared type, subnet, groups and tags, then rebuilds the host's server onto it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.world import Env, make_env, server_yaml

pytestmark = pytest.mark.integration

REGION, DR_REGION = "eu-west-1", "eu-central-1"
DAY0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
SPEC = """\
hosts:
  vm-a:
    site: primary
    root: "{{{{ world }}}}/primary"
    aws: {{region: {region}, instance_id: {instance}}}
  vm-b:
    site: dr
    root: "{{{{ world }}}}/dr"
    aws: {{region: {dr_region}, instance_type: m5.large, subnet_id: {subnet},
          security_group_ids: [{group}], key_name: {key}, tags: {{Name: gw-dr, team: apim}}}}
repositories:
  ec2-east: {{site: primary, type: aws, region: {region}, endpoint_url: "{endpoint}"}}
  ec2-west: {{site: dr, type: aws, region: {dr_region}, endpoint_url: "{endpoint}",
             kms_key_id: alias/drydock-dr}}
backups:
  {series}:
    source: {{ec2_instance: vm-a}}
    every: 24h
    keep: {{last: 2}}
    repository: ec2-east
    copies: [ec2-west]
recover:
  dr: {{hosts: {{vm-a: vm-b}}}}
"""


def client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client("ec2", region_name=region, endpoint_url=endpoint)


def network(ec2: Any) -> tuple[str, str]:
    """A VPC with one subnet and one security group; returns (subnet, group)."""
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"gw-{uuid.uuid4().hex[:6]}",
                                      Description="gateways", VpcId=vpc)["GroupId"]
    return subnet, group


def setup(tmp_path: Path, endpoint: str) -> tuple[Env, str]:
    east, west = client(endpoint, REGION), client(endpoint, DR_REGION)
    base_image = east.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    subnet, _group = network(east)
    instance = east.run_instances(ImageId=base_image, InstanceType="t3.large", MinCount=1,
                                  MaxCount=1, SubnetId=subnet)["Instances"][0]["InstanceId"]
    dr_subnet, dr_group = network(west)
    key = f"ops-{uuid.uuid4().hex[:6]}"
    west.create_key_pair(KeyName=key)
    series = f"vm-a-image-{uuid.uuid4().hex[:8]}"  # the moto server is shared: own series
    text = SPEC.format(region=REGION, dr_region=DR_REGION, instance=instance, subnet=dr_subnet,
                       group=dr_group, key=key, endpoint=endpoint, series=series)
    servers = {"gw-1": server_yaml("gw-1").replace("host: node-a", "host: vm-a")}
    return make_env(tmp_path, servers, install=False, extra_yaml=text), series


def images(endpoint: str, region: str, series: str) -> dict[str, dict[str, Any]]:
    """snapshot id -> DescribeImages item of `series` in `region`, as EC2 lists them."""
    found = {}
    for image in client(endpoint, region).describe_images(Owners=["self"])["Images"]:
        tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
        if tags.get("drydock:series") == series:
            found[tags["drydock:snapshot-id"]] = image
    return found


def ebs_snapshots(image: dict[str, Any]) -> list[str]:
    return [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]


def existing_snapshots(endpoint: str, region: str, ids: list[str]) -> set[str]:
    pages = client(endpoint, region).get_paginator("describe_snapshots")
    present = {s["SnapshotId"] for page in pages.paginate(OwnerIds=["self"])
               for s in page["Snapshots"]}
    return present & set(ids)


def at(day: int) -> dict[str, str]:
    return {"DRYDOCK_NOW": (DAY0 + timedelta(days=day)).isoformat()}


@pytest.mark.slow(25)
def test_amis_are_taken_copied_pruned_and_recover_launches_from_the_newest(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str]) -> None:
    env, series = setup(tmp_path, moto_endpoint)
    taken: list[str] = []
    made: dict[tuple[str, str], list[str]] = {}  # (region, id) -> EBS snapshots
    for day in range(4):
        proc = env.run("apply", ".", "--auto-approve", env={**aws, **at(day)}, check=0)
        east = images(moto_endpoint, REGION, series)
        new = sorted(set(east) - set(taken))
        assert len(new) == 1, proc.stdout + proc.stderr
        taken += new
        west = images(moto_endpoint, DR_REGION, series)
        for region, found in ((REGION, east), (DR_REGION, west)):
            for sid, image in found.items():
                made.setdefault((region, sid), ebs_snapshots(image))
        assert sorted(east) == taken[-2:]
        assert sorted(west) == taken[-2:]
        tags = {t["Key"]: t["Value"] for t in east[new[0]]["Tags"]}
        assert (tags["drydock:series"], tags["drydock:snapshot-id"]) == (series, new[0])
        assert tags["drydock:created"] == (DAY0 + timedelta(days=day)).isoformat()
    for region in (REGION, DR_REGION):
        gone = [s for sid in taken[:-2] for s in made[(region, sid)]]
        assert gone and existing_snapshots(moto_endpoint, region, gone) == set()
        kept = [s for sid in taken[-2:] for s in made[(region, sid)]]
        assert existing_snapshots(moto_endpoint, region, kept) == set(kept)

    for path in (env.spec / "state").glob("*"):
        if path.is_file():
            path.unlink()  # the state is lost with the site: AWS's tags alone must do
    listed = json.loads(env.run("backups", "list", "--env", ".", "--rebuild", "--format",
                                "json", env={**aws, **at(3)}, check=0).stdout)["snapshots"]
    assert [s["id"] for s in listed] == taken[-2:]

    declared = (env.spec / "extra.yaml").read_text()
    proc = env.run("recover", "--site", "dr", "--env", ".", "--auto-approve", "--write-spec",
                   env={**aws, **at(3)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    newest = images(moto_endpoint, DR_REGION, series)[taken[-1]]["ImageId"]
    reservations = client(moto_endpoint, DR_REGION).describe_instances(Filters=[
        {"Name": "tag:drydock:host", "Values": ["vm-b"]}])["Reservations"]
    launched = [i for r in reservations for i in r["Instances"]]
    assert len(launched) == 1
    instance = launched[0]
    assert instance["ImageId"] == newest
    assert instance["InstanceType"] == "m5.large"
    assert f"subnet_id: {instance['SubnetId']}," in declared
    groups = [g["GroupId"] for g in instance["SecurityGroups"]]
    assert len(groups) == 1 and f"security_group_ids: [{groups[0]}]" in declared
    assert f"key_name: {instance['KeyName']}," in declared
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert (tags["Name"], tags["team"], tags["drydock:replaces"]) == ("gw-dr", "apim", "vm-a")
    assert instance["State"]["Name"] == "running"
    state = json.loads(next((env.spec / "state").glob("*.json")).read_text())
    recorded = state["resources"]["host.vm-b"]["data"]
    assert recorded["address"] == instance["PrivateIpAddress"]
    assert recorded["instance"]["instance_id"] == instance["InstanceId"]
    assert (env.world / "dr" / "opt" / "gw-1" / "updates" / "product.txt").is_file()
    assert "launch m5.large" in proc.stdout


    # --write-spec: the launched host is now the instance it launched, its image policy
    # images it and is kept in the DR region; the next plan has nothing to do
    written = yaml.safe_load((env.spec / "extra.yaml").read_text())
    assert written["hosts"]["vm-b"]["aws"] == {
        "region": DR_REGION, "instance_id": instance["InstanceId"],
        "tags": {"Name": "gw-dr", "team": "apim"}}
    policy = written["backups"][series]
    assert (policy["source"], policy["repository"], policy["copies"]) == (
        {"ec2_instance": "vm-b"}, "ec2-west", ["ec2-east"])
    assert written["recover"]["primary"]["hosts"] == {"vm-b": "vm-a"}
    assert "hosts.vm-b is instance " + instance["InstanceId"] in proc.stdout
    env.run("validate", ".", check=0)
    plan = json.loads(env.run("plan", ".", "--format", "json", env={**aws, **at(3.5)},
                              check=0).stdout)
    assert [c for c in plan["changes"] if c["address"] in ("server.gw-1", "host.vm-b")] == []
    assert [a["id"] for a in plan["actions"]] == [], plan["actions"]
