"""Desired attributes of backup policies (pure)."""

from __future__ import annotations

from engine.contracts.models import DesiredResource
from engine.spec.loader import LoadedSpec
from engine.spec.models import BackupPolicy


def source_address(policy: BackupPolicy) -> str:
    """The address a policy backs up: `database.X`, `server.X`, `host.X` or `paths:<root>`."""
    src = policy.source
    if src.database is not None:
        return f"database.{src.database}"
    if src.ec2_instance is not None:
        return f"host.{src.ec2_instance}"
    if src.server is not None:
        return f"server.{src.server}"
    return f"paths:{src.root}"


def desired_backup(spec: LoadedSpec, name: str, policy: BackupPolicy) -> DesiredResource:
    """A backup policy: where its series lives and must be copied to."""
    return DesiredResource(
        address=f"backup.{name}", kind="backup", name=name,
        attributes={"source": source_address(policy), "repository": policy.repository,
                    "copies": sorted(policy.copies),
                    "every_seconds": int(policy.every.total_seconds())},
    )
