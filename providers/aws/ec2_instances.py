"""EC2 instances of one region: describe one (the facts of an EC2 host), launch one.

Observed facts of an EC2 host are `Ec2Instance`: state, type, image, tags, private IP.
A launch is idempotent: the instance is tagged ``drydock:host=<host>`` and carries the
plan's client token, so a run that crashed after asking finds the same instance instead
of launching a second one. Waiting uses boto3's ``instance_running`` waiter, bounded by
`AwsWait`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from providers.aws.clients import AwsEndpoint, error_code, make_client, translated
from providers.aws.tagging import tag_list, tag_pairs
from providers.aws.waiting import AwsWait, Progress, WaitFailures, quiet, wait_bounded

TAG_HOST = "drydock:host"
_LIVE = ["pending", "running"]
_NO_INSTANCE = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}


class Ec2Error(Exception):
    """An EC2 call about an instance failed; the message is one line naming it."""


class Ec2Instance(BaseModel):
    """An instance as DescribeInstances reports it: the observed facts of an EC2 host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instance_id: str
    region: str
    state: str
    instance_type: str
    image_id: str | None = None
    subnet_id: str | None = None
    private_ip: str | None = None
    security_group_ids: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)


class LaunchRequest(BaseModel):
    """What `run_instances` gets: the image and the declared type, network and tags."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    image_id: str
    instance_type: str
    subnet_id: str
    security_group_ids: tuple[str, ...] = ()
    key_name: str | None = None
    iam_instance_profile: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    client_token: str


def parse_instance(item: dict[str, Any], region: str) -> Ec2Instance:
    """An Ec2Instance from one DescribeInstances item."""
    return Ec2Instance(
        instance_id=str(item.get("InstanceId", "")), region=region,
        state=str((item.get("State") or {}).get("Name", "unknown")),
        instance_type=str(item.get("InstanceType", "")), image_id=item.get("ImageId"),
        subnet_id=item.get("SubnetId"), private_ip=item.get("PrivateIpAddress"),
        security_group_ids=tuple(g["GroupId"] for g in item.get("SecurityGroups") or ()),
        tags=dict(tag_pairs(item.get("Tags"))))


class Ec2Instances:
    """EC2 instances of one region (at `endpoint.endpoint_url` when given)."""

    def __init__(self, endpoint: AwsEndpoint, *, wait: AwsWait | None = None,
                 client: Any = None) -> None:
        self.endpoint = endpoint
        self.wait = wait or AwsWait.lasting(timedelta(minutes=20), poll=timedelta(seconds=15))
        self._client_obj = client

    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = make_client("ec2", self.endpoint)
        return self._client_obj

    def _calling(self, subject: str, operation: str) -> Any:
        return translated(Ec2Error, subject=subject, operation=operation, service="ec2",
                          where=self.endpoint)

    def _describe(self, subject: str, **request: Any) -> list[Ec2Instance]:
        from botocore.exceptions import ClientError

        found: list[Ec2Instance] = []
        with self._calling(subject, "describe instances"):
            try:
                for page in self._client().get_paginator("describe_instances").paginate(
                        **request):
                    for reservation in page.get("Reservations", []):
                        found += [parse_instance(i, self.endpoint.region)
                                  for i in reservation.get("Instances", [])]
            except ClientError as exc:
                if error_code(exc) not in _NO_INSTANCE:
                    raise
        return found

    def describe(self, instance_id: str) -> Ec2Instance | None:
        """The instance `instance_id`, or None when EC2 does not know it."""
        found = self._describe(f"EC2 instance {instance_id} in {self.endpoint.region}",
                               InstanceIds=[instance_id])
        return found[0] if found else None

    def launched_for(self, host: str) -> Ec2Instance | None:
        """The live (pending or running) instance drydock launched for `host`, if any."""
        found = self._describe(f"EC2 host {host} in {self.endpoint.region}", Filters=[
            {"Name": f"tag:{TAG_HOST}", "Values": [host]},
            {"Name": "instance-state-name", "Values": _LIVE}])
        return found[0] if found else None

    def launch(self, request: LaunchRequest, progress: Progress = quiet) -> tuple[
            Ec2Instance, bool]:
        """Launch the instance `request` describes (unless it runs already) and wait
        until it is running. Returns it and whether this call launched it. Raises
        Ec2Error when EC2 refuses or it is not running within the wait."""
        subject = f"EC2 host {request.host} in {self.endpoint.region}"
        existing = self.launched_for(request.host)
        made = existing is None
        if existing is None:
            tags = {**request.tags, TAG_HOST: request.host}
            call: dict[str, Any] = {
                "ImageId": request.image_id, "InstanceType": request.instance_type,
                "MinCount": 1, "MaxCount": 1, "SubnetId": request.subnet_id,
                "ClientToken": request.client_token,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": tag_list(tags)}]}
            if request.security_group_ids:
                call["SecurityGroupIds"] = list(request.security_group_ids)
            if request.key_name:
                call["KeyName"] = request.key_name
            if request.iam_instance_profile:
                key = "Arn" if request.iam_instance_profile.startswith("arn:") else "Name"
                call["IamInstanceProfile"] = {key: request.iam_instance_profile}
            with self._calling(subject, f"run instance from {request.image_id}"):
                started = self._client().run_instances(**call)["Instances"][0]["InstanceId"]
            progress(f"{subject}: launched {started} from {request.image_id}")
        else:
            started = existing.instance_id
            progress(f"{subject}: {started} was launched before; waiting for it")
        return self.wait_running(started, subject, progress), made

    def wait_running(self, instance_id: str, subject: str,
                     progress: Progress = quiet) -> Ec2Instance:
        """Wait (bounded) until `instance_id` runs; returns it, raises Ec2Error."""

        def timed_out(status: str, waited: str) -> Ec2Error:
            return Ec2Error(f"{subject}: instance {instance_id} still {status} after "
                            f"{waited}; look at it in EC2, then run recover again")

        wait_bounded(self._client().get_waiter("instance_running"),
                     {"InstanceIds": [instance_id]}, self.wait,
                     calling=lambda: self._calling(subject, "wait for instance"),
                     pending=_state, failed=lambda exc: _FAILS.of(subject, exc, _reported),
                     timed_out=timed_out, progress=progress, subject=subject)
        found = self.describe(instance_id)
        if found is None:
            raise Ec2Error(f"{subject}: instance {instance_id} vanished while waiting for it")
        return found


def _state(response: Any) -> str:
    for reservation in (response or {}).get("Reservations") or ():
        for item in reservation.get("Instances") or ():
            return str((item.get("State") or {}).get("Name", "unknown"))
    return "unknown"


def _reported(response: Any) -> str:
    return f"state {_state(response)}"


_FAILS = WaitFailures(label="EC2", things="instances", gone=frozenset(_NO_INSTANCE),
                      missing=Ec2Error, error=Ec2Error,
                      advice="the instance did not start — look at its console output in EC2")
