"""Plan the EC2 side of a recovery (pure): launch replacement instances from AMIs.

When `recover.<site>.hosts` maps a lost host onto a host whose `aws` block describes an
instance to launch (`instance_type`, `subnet_id`, …, no `instance_id`), the plan gets an
`ec2.launch` of that host from the newest verified AMI of the lost host's
`ec2_instance` policy (chosen by the caller among the site's repositories, which must be
in the new host's region), or from its pinned `image`. Every server rebuilt onto that
host waits for the launch; the launch records the instance's private IP under
`host.<name>`, which is the address transports use when the spec leaves it open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.contracts.facts import SnapshotInfo
from engine.contracts.models import Action, Change, Frozen, RecordUpdate
from engine.spec.data import AwsRepository
from engine.spec.loader import LoadedSpec


class Ec2RecoverError(ValueError):
    """An EC2 host cannot be recovered as declared; the message says what to fix."""


class Launch(Frozen):
    """One planned launch: the action, its change and record, and the AMI it uses."""

    action: Action
    change: Change
    record: RecordUpdate
    policy: str | None = None
    snapshot: SnapshotInfo | None = None


def image_policies(spec: LoadedSpec, hosts: Mapping[str, str]) -> list[str]:
    """The `ec2_instance` policies of the lost hosts in `hosts` whose replacement is
    launched by recover: the series the caller must choose an AMI of."""
    out = []
    for lost, new in hosts.items():
        target = spec.env.hosts.get(new)
        if target is None or target.aws is None or not target.aws.launched:
            continue
        out += [name for name, p in spec.env.backups.items() if p.source.ec2_instance == lost]
    return out


def plan_launches(spec: LoadedSpec, hosts: Mapping[str, str],
                  chosen: Mapping[str, SnapshotInfo]) -> list[Launch]:
    """An `ec2.launch` per lost host whose replacement recover launches.

    Takes the spec, the mapping lost host -> new host and the snapshot chosen per policy.
    Raises Ec2RecoverError when no AMI is chosen for a host that needs one, or the AMI is
    in another region than the new host.
    """
    launches = []
    for lost, new in hosts.items():
        target = spec.env.hosts.get(new)
        if target is None or target.aws is None or not target.aws.launched:
            continue
        aws = target.aws
        policies = [p for p in image_policies(spec, {lost: new}) if p in chosen]
        snap = chosen[policies[0]] if policies else None
        if snap is None and aws.image is None:
            raise Ec2RecoverError(
                f"recover: host {new} is launched from an AMI of host {lost}, but no verified "
                f"AMI of {', '.join(image_policies(spec, {lost: new})) or 'any policy'} is in "
                "the site's repositories; copy one there or pin hosts."
                f"{new}.aws.image")
        params: dict[str, object] = {
            "host": new, "replaces": lost, "region": aws.region,
            "instance_type": aws.instance_type, "subnet_id": aws.subnet_id,
            "security_group_ids": list(aws.security_group_ids), "key_name": aws.key_name,
            "iam_instance_profile": aws.iam_instance_profile,
            "tags": {**aws.tags, "drydock:replaces": lost}}
        if snap is not None:
            repo = spec.env.repositories.get(snap.repository)
            if not isinstance(repo, AwsRepository) or repo.region != aws.region:
                where = repo.region if isinstance(repo, AwsRepository) else "no region"
                raise Ec2RecoverError(
                    f"recover: the newest AMI of {lost} is in {snap.repository} ({where}) but "
                    f"host {new} is launched in {aws.region}; copy the AMIs to an aws "
                    f"repository in {aws.region} at this site")
            params.update(repository=snap.repository, series=snap.series,
                          snapshot_id=snap.id, image_id=snap.facts.get("image_id"))
            source = f"AMI {snap.facts.get('image_id')} ({snap.series}/{snap.id})"
        else:
            params["image_id"] = aws.image
            source = f"pinned image {aws.image}"
        address = f"host.{new}"
        action = Action(
            id=f"{address}/launch", address=address, type="ec2.launch",
            summary=f"launch {aws.instance_type} in {aws.subnet_id} ({aws.region}) from "
                    f"{source} to take over from host {lost}, and wait until it runs",
            params=params, risky=True)
        change = Change(address=address, kind="host", action="create",
                        reason=f"takes over from host.{lost}: launched from {source}")
        record = RecordUpdate(address=address, kind="host", name=new, attributes={
            "instance_type": aws.instance_type, "subnet_id": aws.subnet_id,
            "region": aws.region, "replaces": lost})
        launches.append(Launch(action=action, change=change, record=record,
                               policy=policies[0] if policies else None, snapshot=snap))
    return launches


def after_launches(actions: Sequence[Action], launches: Sequence[Launch],
                   server_hosts: Mapping[str, str]) -> list[Action]:
    """`actions` with each server's first action waiting for its new host's launch.

    `server_hosts` maps `server.<name>` to the host it is rebuilt on.
    """
    launch_of = {launch.action.params["host"]: launch.action.id for launch in launches}
    seen: set[str] = set()
    out = []
    for action in actions:
        host = server_hosts.get(action.address)
        if host in launch_of and action.address not in seen:
            seen.add(action.address)
            action = action.model_copy(
                update={"depends_on": (*action.depends_on, launch_of[host])})
        out.append(action)
    return out


def launch_age(launch: Launch, now: datetime) -> float | None:
    """Seconds since the AMI a launch uses was taken (None for a pinned image)."""
    return None if launch.snapshot is None else (now - launch.snapshot.created).total_seconds()
