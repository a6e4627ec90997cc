"""An EC2 host whose spec leaves its address open is reached at its launched instance's IP.

On moto's server over HTTP: `recover`'s `ec2.launch` action (planned by the recovery
planner, run through the default registry) launches the instance; moto gives it a private
IP, which the launch records, and the run's host pool passes that IP to the transport
factory for every later action on the host, over ssh. A later run (a new pool) finds the
same IP from the live instance's tags.

What is mocked, and why: the instance's private IP (10.x) is not a machine here, and no
test may send traffic there. So the factory the test gives the pool records the address
it is asked to reach and maps exactly that IP to the test's real sshd on 127.0.0.1; the
ssh connection, its host key check and the commands are real.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from engine.contracts.provider import ActionContext
from engine.planners.recover_ec2 import plan_launches
from engine.spec.infra import Host
from engine.spec.loader import LoadedSpec, load_spec
from engine.wiring import default_registry
from providers.aws.ec2_provider import launched_address
from providers.hosts.base import HostError, Transport
from providers.hosts.factory import transport_for_host
from providers.hosts.pool import HostPool
from tests.helpers.sshd import SshServer

pytestmark = pytest.mark.integration

REGION = "eu-central-1"


class MappedToSshd:
    """A transport factory that records the address asked for and reaches the test sshd
    instead of the instance's private IP (see the module docstring)."""

    def __init__(self, sshd: SshServer) -> None:
        self.sshd = sshd
        self.asked: list[tuple[str, str | None]] = []
        self.private_ip: str | None = None

    def __call__(self, name: str, host: Host, spec_dir: Path, *,
                 address: str | None = None) -> Transport:
        self.asked.append((name, address))
        if address is None or address != self.private_ip:
            return transport_for_host(name, host, spec_dir, address=address)
        return transport_for_host(name, host, spec_dir, address=self.sshd.address)


def network(endpoint: str) -> tuple[Any, str, str]:
    import boto3

    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.1.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return ec2, subnet, image


def make_spec(tmp_path: Path, sshd: SshServer, endpoint: str, subnet: str,
              image: str, host: str) -> LoadedSpec:
    ssh = sshd.host_spec(site="dr")
    del ssh["address"]  # left to the instance
    ssh["aws"] = {"region": REGION, "endpoint_url": endpoint, "instance_type": "m5.large",
                  "subnet_id": subnet, "image": image, "tags": {"Name": host}}
    doc = {"environment": "t", "sites": {"primary": {}, "dr": {}},
           "hosts": {"vm-a": {"site": "primary", "root": str(tmp_path / "gone")}, host: ssh}}
    (tmp_path / "env.yaml").write_text(yaml.safe_dump(doc))
    return load_spec(tmp_path)


def context(spec: LoadedSpec) -> ActionContext:
    return ActionContext(spec=spec, now=datetime.now(UTC), run_id=uuid.uuid4().hex,
                         resolve_secret=lambda _r: "", progress=lambda _m: None)


def test_the_launched_instance_ip_is_the_hosts_address_for_the_rest_of_the_run(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], sshd: SshServer) -> None:
    ec2, subnet, image = network(moto_endpoint)
    host = f"vm-{uuid.uuid4().hex[:6]}"  # the moto server is shared: its own tag
    spec = make_spec(tmp_path, sshd, moto_endpoint, subnet, image, host)
    factory = MappedToSshd(sshd)
    pool = HostPool(factory, resolve=launched_address)
    registry = default_registry(pool)
    with pytest.raises(HostError, match="no address yet"):
        pool.get(spec, host)  # before the launch nothing is running
    [launch] = plan_launches(spec, {"vm-a": host}, {})

    outcome = registry.run(launch.action, context(spec))

    [instance] = [i for r in ec2.describe_instances(Filters=[
        {"Name": "tag:drydock:host", "Values": [host]}])["Reservations"] for i in r["Instances"]]
    private_ip = instance["PrivateIpAddress"]
    assert private_ip and outcome.data["address"] == private_ip
    factory.private_ip = private_ip
    transport = pool.get(spec, host)
    assert factory.asked[-1] == (host, private_ip)
    marker = PurePosixPath(str(sshd.root)) / "launched.txt"
    transport.write_atomic(marker, b"reached\n")
    assert (sshd.backing / "launched.txt").read_bytes() == b"reached\n"
    result = transport.run(["cat", str(marker)])
    assert result.ok and result.stdout == "reached\n"
    assert pool.get(spec, host) is transport  # one transport for the rest of the run
    pool.close()

    later = MappedToSshd(sshd)
    later.private_ip = private_ip
    next_run = HostPool(later, resolve=launched_address)
    assert next_run.get(spec, host).stat(marker) is not None
    assert later.asked == [(host, private_ip)]
    next_run.close()


def test_a_declared_address_wins_over_what_is_learned_or_resolved(tmp_path: Path) -> None:
    (tmp_path / "env.yaml").write_text(yaml.safe_dump({
        "environment": "t", "sites": {"a": {}},
        "hosts": {"node-a": {"site": "a", "transport": "ssh", "address": "127.0.0.1",
                             "root": "/srv"},
                  "node-b": {"site": "a", "root": str(tmp_path)}}}))
    spec = load_spec(tmp_path)
    asked: list[str] = []

    def resolve(_spec: LoadedSpec, name: str) -> str | None:
        asked.append(name)
        return None

    pool = HostPool(resolve=resolve)
    pool.learn_address("node-a", "10.0.0.9")
    assert pool.address_of(spec, "node-a") is None  # the spec's own address is used
    assert pool.address_of(spec, "node-b") is None and asked == ["node-b"]
    assert launched_address(spec, "node-b") is None  # not an EC2 host: no AWS call
