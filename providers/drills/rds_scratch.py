"""The scratch target of an RDS drill: a new RDS instance restored from the snapshot.

The instance is created by the restore (tagged ``drydock:scratch=true``) and deleted by
the teardown without a final snapshot; an identifier that already exists is refused and
left alone. What a drill proves about it without connecting: the instance became
``available`` and its engine and allocated storage equal the snapshot's. SQL checks need
a reachable endpoint and credentials, which a scratch RDS instance does not give drydock:
they fail with "not reachable" rather than pass silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.contracts.drills import CheckResult
from engine.spec.data import DrillCheck
from providers.aws.clients import AwsEndpoint
from providers.aws.rds import RdsSnapshotStore
from providers.aws.rds_model import RdsSnapshot
from providers.aws.rds_restore import RdsInstances, RestoredInstance
from providers.drills.scratch import Scratch
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.restore.actions import RestoreRefused

MATCHES = "rds instance is available with the snapshot's engine and storage"
NOT_REACHABLE = ("not reachable: SQL checks on a restored RDS instance need a reachable "
                 "endpoint and credentials, which drydock does not have for scratch "
                 "instances; check the instance instead")


def _quiet(_message: str) -> None:
    return None


class ScratchRdsInstance(Scratch):
    """A scratch RDS instance `identifier` in `region`, restored and deleted by the drill."""

    def __init__(self, identifier: str, region: str,
                 progress: Callable[[str], None] = _quiet) -> None:
        self.identifier = identifier
        self.region = region
        self.label = f"rds {identifier} in {region}"
        self.progress = progress
        self.snapshot: RdsSnapshot | None = None
        self.instance: RestoredInstance | None = None
        self._instances: RdsInstances | None = None

    def restore(self, repo: Repository, series: str, snapshot_id: str) -> None:
        """Restore the snapshot of `repo` (an RDS snapshot store) into a new instance.

        Raises RestoreRefused (not an RDS store, other region, identifier taken),
        SnapshotNotFound, RepositoryError or DatabaseError (RDS refused, waited too long).
        """
        if not isinstance(repo, RdsSnapshotStore):
            raise RestoreRefused(f"scratch {self.label}: repository {repo.name} holds no RDS "
                                 "snapshots; restore RDS drills from a type: aws repository")
        if repo.region != self.region:
            raise RestoreRefused(
                f"scratch {self.label}: repository {repo.name} is in {repo.region}; RDS "
                f"restores a snapshot only in its own region — put the scratch instance "
                f"in {repo.region}")
        snap = repo.find(series, snapshot_id)
        if snap is None or not snap.available:
            raise SnapshotNotFound(f"repository {repo.name}: snapshot {series}/{snapshot_id} "
                                   "is not available")
        instances = RdsInstances(AwsEndpoint(region=repo.region,
                                             endpoint_url=repo.endpoint.endpoint_url),
                                 wait=repo.wait)
        if instances.describe(self.identifier) is not None:
            raise RestoreRefused(f"scratch {self.label} already exists; a drill only restores "
                                 "into a new instance — delete it or name another one")
        self.snapshot = snap
        self._instances = instances
        self.instance = instances.restore(snap.identifier, self.identifier, scratch=True,
                                          progress=self.progress)

    def teardown(self) -> None:
        """Delete the scratch instance when this drill created it (nothing otherwise)."""
        if self._instances is not None:
            self._instances.delete_scratch(self.identifier)

    def checks(self, wanted: Sequence[DrillCheck]) -> list[CheckResult]:
        """The built-in instance check first, then one result per declared check."""
        out = [self._matches()]
        out += [CheckResult(check=check.describe(), passed=False, detail=NOT_REACHABLE)
                for check in wanted]
        return out

    def _matches(self) -> CheckResult:
        snap, made = self.snapshot, self.instance
        if snap is None or made is None:
            raise RepositoryError(f"scratch {self.label}: nothing was restored to check")
        problems = []
        if made.status != "available":
            problems.append(f"status is {made.status}")
        if snap.engine and made.engine != snap.engine:
            problems.append(f"engine {made.engine} != snapshot's {snap.engine}")
        if made.allocated_storage_bytes != snap.size:
            problems.append(f"storage {made.allocated_storage_bytes >> 30} GiB != snapshot's "
                            f"{snap.size >> 30} GiB")
        detail = "; ".join(problems) or (
            f"{made.engine}, {made.allocated_storage_bytes >> 30} GiB, available")
        return CheckResult(check=MATCHES, passed=not problems, detail=detail)
