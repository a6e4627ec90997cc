"""EC2 hosts: observe `host.<name>` (the instance's facts) and run `ec2.launch`.

A host is not a managed resource: drydock neither creates nor changes an existing
instance, so an EC2 host is observed, read-only, as facts (`Ec2Instance`: state, type,
image, tags, private IP) for plans, drift reports and recovery. `ec2.launch` is planned
by `recover` only. Its params: `host` (the new host), `region`, `repository`, `series`,
`snapshot_id` (the AMI, looked up again and checked ``available``) or `image_id` (a
pinned image), and the declared `instance_type`, `subnet_id`, `security_group_ids`,
`key_name`, `iam_instance_profile`, `tags`. Its outcome data (recorded under
`host.<name>`) is the instance and its `address`, the private IP transports use.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ActionContext,
    ActionFailed,
    ActionOutcome,
    ObserveRequest,
    Provider,
)
from engine.spec.loader import LoadedSpec
from providers.aws.clients import AwsEndpoint, region_endpoint
from providers.aws.ec2_instances import Ec2Error, Ec2Instance, Ec2Instances, LaunchRequest
from providers.hosts.base import HostUnreachable
from providers.hosts.pool import HostPool
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_store


def ec2_endpoint(spec: LoadedSpec, region: str, declared: str | None = None) -> AwsEndpoint:
    """Where EC2 of `region` is reached: the host's own `endpoint_url`, else that of the
    first `type: aws` repository in the region, else the default (AWS_ENDPOINT_URL…)."""
    return region_endpoint(spec.env.repositories.values(), region, declared)


def observe_host(spec: LoadedSpec, name: str) -> Ec2Instance | None:
    """The instance host `name` is (its instance_id, or the one recover launched for it),
    or None when there is none. Raises Ec2Error, ValueError for a host without `aws`."""
    host = spec.env.hosts.get(name)
    if host is None or host.aws is None:
        raise ValueError(f"host {name!r} is not an EC2 host (no 'aws' in the spec)")
    instances = Ec2Instances(ec2_endpoint(spec, host.aws.region, host.aws.endpoint_url))
    if host.aws.instance_id is not None:
        return instances.describe(host.aws.instance_id)
    return instances.launched_for(name)


def host_address(spec: LoadedSpec, name: str, recorded: dict[str, Any] | None) -> str | None:
    """The address a transport uses for EC2 host `name` when the spec leaves it open: the
    private IP recorded by its launch (`recorded` is the `host.<name>` record's data),
    else the live instance's. None for a host that is not an EC2 host."""
    address = (recorded or {}).get("address")
    if address:
        return str(address)
    host = spec.env.hosts.get(name)
    if host is None or host.aws is None:
        return None
    found = observe_host(spec, name)
    return found.private_ip if found is not None else None


def _image_id(ctx: ActionContext, p: dict[str, Any]) -> str:
    if p.get("image_id") and not p.get("snapshot_id"):
        return str(p["image_id"])
    store = open_store(ctx.spec, p["repository"], p["series"])
    found = store.verify(p["series"], p["snapshot_id"])
    if not found.ok:
        raise RepositoryError(f"repository {p['repository']}: AMI of {p['series']}/"
                              f"{p['snapshot_id']} is not available")
    return found.parts[0].name


def launched_address(spec: LoadedSpec, name: str) -> str | None:
    """The host pool's resolver: the live instance's private IP for an EC2 host whose
    spec leaves its address open, None for any other host. Raises HostUnreachable when
    EC2 cannot say."""
    host = spec.env.hosts.get(name)
    if host is None or host.aws is None or host.address:
        return None
    try:
        return host_address(spec, name, None)
    except Ec2Error as exc:
        raise HostUnreachable(f"host {name}: its address is its EC2 instance's, and {exc}"
                              ) from exc


class Ec2Provider(Provider):
    """Observes EC2 hosts and launches the instances recovery needs.

    With the run's host pool, a launched instance's private IP becomes the address of its
    host for every later action of the run (servers rebuilt onto it)."""

    kinds: ClassVar[tuple[str, ...]] = ("host",)
    action_types: ClassVar[tuple[str, ...]] = ("ec2.launch",)

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.hosts = hosts

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """The facts of an EC2 host; a host without `aws` is just there."""
        name = request.address.split(".", 1)[1]
        host = request.spec.env.hosts.get(name)
        if host is None or host.aws is None:
            return ObservedResource(address=request.address, exists=host is not None)
        try:
            found = observe_host(request.spec, name)
        except Ec2Error as exc:
            raise ValueError(str(exc)) from exc
        return ObservedResource(address=request.address, exists=found is not None,
                                facts={} if found is None else found.model_dump(mode="json"))

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Launch the instance of a recovered EC2 host and wait until it runs."""
        p = action.params
        host = ctx.spec.env.hosts.get(p["host"])
        declared = host.aws.endpoint_url if host is not None and host.aws else None
        try:
            image = _image_id(ctx, p)
            token = hashlib.sha256(f"{ctx.run_id}\0{p['host']}".encode()).hexdigest()[:64]
            request = LaunchRequest(
                host=p["host"], image_id=image, instance_type=p["instance_type"],
                subnet_id=p["subnet_id"],
                security_group_ids=tuple(p.get("security_group_ids") or ()),
                key_name=p.get("key_name"), iam_instance_profile=p.get("iam_instance_profile"),
                tags=dict(p.get("tags") or {}), client_token=token)
            instances = Ec2Instances(ec2_endpoint(ctx.spec, p["region"], declared))
            running, made = instances.launch(request, progress=ctx.progress)
        except (Ec2Error, RepositoryError) as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        if self.hosts is not None and running.private_ip:
            self.hosts.learn_address(p["host"], running.private_ip)
        word = "launched" if made else "already running"
        return ActionOutcome(
            message=f"EC2 host {p['host']}: instance {running.instance_id} {word} from "
                    f"{image} ({running.instance_type}, {running.private_ip})",
            data={"instance": running.model_dump(mode="json"), "address": running.private_ip})
