"""The spec edits for the EC2 hosts a recovery launched (pure).

A host whose `aws` block describes an instance to launch (no `instance_id`) is, once
`recover` launched it, an existing instance: its block becomes `{region, instance_id}`
(and the `endpoint_url` and `tags` it declared), the instance id the launch recorded in
the state (`host.<name>` data). An ssh host that left its address open gets the private
IP the launch recorded (the address the run's host pool learned), so later runs reach it
without asking EC2. Its image policy (`ec2_instance: <lost host>`) images the new host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.spec.loader import LoadedSpec

Set = Callable[[tuple[str, ...], object, str], None]
LAUNCH_KEYS = ("instance_type", "subnet_id", "security_group_ids", "key_name",
               "iam_instance_profile", "image")


def launched_host_edits(spec: LoadedSpec, hosts: Mapping[str, str],
                        recorded: Mapping[str, Mapping[str, Any]], put: Set,
                        notes: list[str]) -> None:
    """Call `put(path, value, description)` for every host of `hosts` (lost -> new) that
    recover launched; `recorded` is per host name its `host.<name>` record's data. A
    launched host the state records no instance of is a line in `notes`."""
    for lost, new in hosts.items():
        host = spec.env.hosts.get(new)
        if host is None or host.aws is None or not host.aws.launched:
            continue
        data = recorded.get(new) or {}
        instance = data.get("instance") if isinstance(data.get("instance"), dict) else {}
        instance_id = instance.get("instance_id")
        if not instance_id:
            notes.append(f"hosts.{new}: the state records no instance launched for it; its "
                         "aws block is left as it is")
            continue
        kept = host.aws.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        block = {k: v for k, v in kept.items() if k not in LAUNCH_KEYS}
        put(("hosts", new, "aws"), {**block, "instance_id": instance_id},
            f"hosts.{new} is instance {instance_id} (launched from {lost}'s image)")
        address = data.get("address") or instance.get("private_ip")
        if host.transport == "ssh" and not host.address and address:
            put(("hosts", new, "address"), str(address),
                f"hosts.{new} is reached at {address} (its instance's private IP)")
