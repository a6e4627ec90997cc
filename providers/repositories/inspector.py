"""The provider behind `backups ls/diff/check`: a snapshot's contents, a repository's health.

Read-only: it observes no resources and runs no actions; it serves `ContentsPort`.
"""

from __future__ import annotations

from typing import ClassVar

from engine.contracts.facts import RepositoryCheck, SnapshotContents, SnapshotInfo
from engine.contracts.models import Action
from engine.contracts.provider import ActionContext, ActionFailed, ActionOutcome, Provider
from engine.contracts.queries import ContentsPort
from engine.spec.loader import LoadedSpec
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_store


class RepositoryInspector(Provider, ContentsPort):
    """Reads byte repositories (local, S3) to describe snapshots and check them whole."""

    kinds: ClassVar[tuple[str, ...]] = ()
    action_types: ClassVar[tuple[str, ...]] = ()

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Runs no actions."""
        raise ActionFailed(f"{action.id}: the repository inspector runs no actions")

    def snapshot_contents(self, spec: LoadedSpec, snapshot: SnapshotInfo) -> SnapshotContents:
        """The parts and members of `snapshot` (an AWS snapshot has neither)."""
        from providers.repositories.contents import snapshot_contents

        store = open_store(spec, snapshot.repository, snapshot.series)
        if not isinstance(store, Repository):
            return SnapshotContents(snapshot=snapshot)
        try:
            return snapshot_contents(store, snapshot)
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc

    def check_repository(self, spec: LoadedSpec, repository: str, *,
                         read_data: bool = False) -> RepositoryCheck:
        """Every folder, manifest and part of a byte repository checked; every RDS
        snapshot and AMI of an AWS one, as AWS reports them."""
        from providers.repositories.check import check_repository

        store = open_store(spec, repository)
        try:
            if not isinstance(store, Repository):
                from providers.aws.store_check import check_aws_stores
                from providers.repositories.factory import open_stores

                return check_aws_stores(repository, open_stores(spec, repository),  # type: ignore[arg-type]
                                        read_data=read_data)
            return check_repository(store, read_data=read_data)
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc
