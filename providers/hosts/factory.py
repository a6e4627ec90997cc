"""Which transport reaches a host declared in the spec: `local` or `ssh`."""

from __future__ import annotations

from pathlib import Path

from engine.spec.infra import Host
from providers.hosts.base import HostError, Transport
from providers.hosts.local import LocalTransport


def transport_for_host(name: str, host: Host, spec_dir: Path, *,
                       address: str | None = None) -> Transport:
    """A new transport for host `name`; ssh is imported only when a spec uses it.

    `spec_dir` anchors relative paths in the host spec (identity, known_hosts files).
    `address` is where to reach a host whose spec leaves its address open (an EC2 host
    recover launched: see `providers.aws.ec2_provider.host_address`).
    """
    if address and host.address is None:
        host = host.model_copy(update={"address": address})
    if host.transport == "local":
        return LocalTransport(name)
    if host.transport == "ssh":
        if not host.address:
            raise HostError(f"host {name}: no address yet (its spec leaves it to the EC2 "
                            "instance, and none is running); launch it with recover, or "
                            "set hosts." f"{name}.address")
        from providers.hosts.ssh import SshTransport

        return SshTransport.from_spec(name, host, spec_dir)
    raise ValueError(f"host {name}: unknown transport {host.transport!r}")
