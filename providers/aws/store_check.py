"""`backups check` of a `type: aws` repository: every drydock RDS snapshot and AMI in it.

AWS keeps the bytes and their checksums, so each item is one part whose health is what
AWS reports: an item still being made is an unfinished write, a failed one a damaged
part, and an AMI whose EBS snapshots are gone or failed cannot be launched. With
`read_data` nothing more can be read from outside AWS; the result says no bytes were read.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.contracts.facts import RepositoryCheck, RepositoryProblem
from providers.aws.store_base import AwsStore

PENDING = frozenset({"creating", "pending", "copying"})
"""AWS states of an item it is still making (RDS snapshots, AMIs)."""


def check_aws_stores(repository: str, stores: Sequence[AwsStore], *,
                     read_data: bool = False) -> RepositoryCheck:
    """Check every drydock item of `stores` (the RDS snapshots and AMIs of one repository).

    Raises RepositoryError when AWS cannot be asked.
    """
    problems: list[RepositoryProblem] = []
    snapshots = 0
    for store in stores:
        for item in store.every_item():
            where = f"{getattr(item, 'series', '?')}/{getattr(item, 'id', '?')} ({item.label})"
            if item.status in PENDING:
                problems.append(RepositoryProblem(
                    kind="unfinished", where=where,
                    problem=f"AWS is still making it (status {item.status}); it is no "
                            "snapshot until it is available"))
                continue
            if not item.available:
                problems.append(RepositoryProblem(
                    kind="part", where=where,
                    problem=f"AWS status is {item.status}: it cannot be restored; forget it "
                            "and take another"))
                continue
            snapshots += 1
            problems += [RepositoryProblem(kind="part", where=where, problem=p)
                         for p in store.item_problems(item)]
    return RepositoryCheck(repository=repository, read_data=read_data, snapshots=snapshots,
                           parts=snapshots, bytes_read=0, problems=tuple(problems))
