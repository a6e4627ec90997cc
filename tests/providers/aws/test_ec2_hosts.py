"""EC2 hosts observed on moto over HTTP: `host.<name>` facts are the instance's state, type,
image, tags and private IP; the address a transport uses for a launched host is the one
its launch recorded, else the live instance's; launching twice finds the first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.contracts.provider import ObserveRequest
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from providers.aws.clients import AwsEndpoint
from providers.aws.ec2_instances import Ec2Instances, LaunchRequest
from providers.aws.ec2_provider import Ec2Provider, host_address
from tests.providers.aws.conftest import REGION


def spec(endpoint: str, instance: str) -> LoadedSpec:
    text = f"""\
environment: t
sites: {{primary: {{}}}}
hosts:
  vm-a: {{site: primary, root: /p, aws: {{region: {REGION}, instance_id: {instance},
          endpoint_url: "{endpoint}"}}}}
  vm-b: {{site: primary, root: /q, aws: {{region: {REGION}, instance_type: m5.large,
          subnet_id: subnet-x, endpoint_url: "{endpoint}"}}}}
  plain: {{site: primary, root: /r}}
"""
    return LoadedSpec(parse_environment([SourceFile("t.yaml", text)]), Path("/s"),
                      ("t.yaml",), "d")


def observe(loaded: LoadedSpec, name: str) -> Any:
    return Ec2Provider().observe(ObserveRequest(address=f"host.{name}", kind="host",
                                                spec=loaded, desired=None, recorded=None))


def test_an_ec2_host_is_observed_as_its_instance_facts(
        moto_endpoint: str, ec2_instance: str, ec2_client: Callable[[str], Any]) -> None:
    loaded = spec(moto_endpoint, ec2_instance)
    seen = observe(loaded, "vm-a")
    item = ec2_client(REGION).describe_instances(InstanceIds=[ec2_instance])[
        "Reservations"][0]["Instances"][0]
    assert seen.exists
    assert seen.facts["state"] == "running" and seen.facts["instance_type"] == "t3.large"
    assert seen.facts["image_id"] == item["ImageId"]
    assert seen.facts["tags"] == {"Name": "gw-1"}
    assert seen.facts["private_ip"] == item["PrivateIpAddress"]
    assert not observe(loaded, "vm-b").exists  # not launched yet
    assert observe(loaded, "plain").facts == {}


def test_a_launched_host_is_found_again_and_its_address_comes_from_it(
        moto_endpoint: str, ec2_instance: str, ec2_client: Callable[[str], Any]) -> None:
    ec2 = ec2_client(REGION)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = Ec2Instances(AwsEndpoint(region=REGION, endpoint_url=moto_endpoint))
    request = LaunchRequest(host="vm-b", image_id=image, instance_type="m5.large",
                            subnet_id=subnet, tags={"team": "apim"}, client_token="t-1")
    first, made = instances.launch(request)
    again, made_again = instances.launch(request)
    assert made and not made_again and again.instance_id == first.instance_id
    assert first.state == "running" and first.subnet_id == subnet
    loaded = spec(moto_endpoint, ec2_instance)
    assert host_address(loaded, "vm-b", None) == first.private_ip
    assert host_address(loaded, "vm-b", {"address": "10.9.9.9"}) == "10.9.9.9"
    assert host_address(loaded, "plain", None) is None
    ec2.terminate_instances(InstanceIds=[first.instance_id])
