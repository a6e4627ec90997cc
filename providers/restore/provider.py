"""The restore provider: describes repositories and snapshots, finds a server's recorded
bytes, and runs the restore actions.

Query ports it serves (read-only, for planning restores and recoveries):
- `SnapshotPort`: a repository's listing (every complete snapshot there; `type: aws`
  repositories list their RDS snapshots, restored by `rds.restore`, and their AMIs,
  launched by `ec2.launch`), and one snapshot's
  inspection (its parts re-hashed against the manifest, digests of some of its files);
- `ServerFilesPort`: the bytes a server's files had, from change backups and snapshots;
- `PackPort`: the product and update level a product's pack installs.

Actions: `restore.database` and `restore.paths` (into a folder on the host the action
names, through the run's host pool; a `dir:` target without a host is on the controller).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import ClassVar

from engine.contracts.facts import (
    FoundFile,
    PackFacts,
    RepositoryListing,
    SnapshotInfo,
    SnapshotInspection,
)
from engine.contracts.models import Action
from engine.contracts.pathfilter import PathFilter
from engine.contracts.provider import (
    ActionContext,
    ActionFailed,
    ActionOutcome,
    Provider,
)
from engine.contracts.queries import PackPort, ServerFilesPort, SnapshotPort
from engine.spec.loader import LoadedSpec
from providers.backup_sources import PathsError
from providers.databases.errors import DatabaseError
from providers.hosts.base import Transport
from providers.hosts.paths import is_dir
from providers.hosts.pool import HostPool
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository, open_store, open_stores
from providers.restore.actions import RestoreRefused, restore_database, restore_tree
from providers.restore.server_files import find_server_files
from providers.restore.snapshots import list_snapshots, tar_members

_FAILURES = (RepositoryError, DatabaseError, PathsError, RestoreRefused, OSError, ValueError)


class RestoreProvider(Provider, SnapshotPort, ServerFilesPort, PackPort):
    """Reads snapshots for restore planning; restores them into databases and folders."""

    action_types: ClassVar[tuple[str, ...]] = ("restore.database", "restore.paths")

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.hosts = hosts or HostPool()

    def close(self) -> None:
        """Release the run's host connections."""
        self.hosts.close()

    def list_repository(self, spec: LoadedSpec, repository: str) -> RepositoryListing:
        """Every complete snapshot in `repository`."""
        try:
            stores = open_stores(spec, repository)
            exists = repo_exists(stores[0], self.hosts.controller)
            snaps = tuple(s for repo in stores for s in list_snapshots(repo))
            return RepositoryListing(repository=repository, exists=exists, snapshots=snaps)
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc

    def inspect_snapshot(self, spec: LoadedSpec, snapshot: SnapshotInfo, *,
                         files: Sequence[str] = (), verify: bool = False) -> SnapshotInspection:
        """Re-hash the snapshot's parts (when `verify`) and digest `files` in it."""
        try:
            series, sid = snapshot.series, snapshot.id
            repo = open_store(spec, snapshot.repository, series)
            verified, problem = None, None
            if verify:
                result = repo.verify(series, sid)
                bad = [f"{c.name}: {c.problem or 'sha256 mismatch'}" for c in result.parts
                       if not c.ok]
                verified, problem = result.ok, "; ".join(bad) or None
                if not result.ok:
                    return SnapshotInspection(verified=False, problem=problem)
            digests: dict[str, str] = {}
            if files and isinstance(repo, Repository):
                members = tar_members(repo, series, sid, list(files))
                digests = {path: "sha256:" + m.sha256 for path, m in members.items()}
            return SnapshotInspection(verified=verified, problem=problem, files=digests)
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc

    def pack_facts(self, spec: LoadedSpec, product: str) -> PackFacts:
        """The product and update level the pack of `product` installs, its kernel and
        the update packages (by level) its updates folder holds for it."""
        from providers.product.install import product_pack_facts

        declared = spec.env.products.get(product)
        if declared is None:
            raise ValueError(f"product {product!r} is not in the spec")
        updates = spec.path(declared.updates) if declared.updates else None
        return product_pack_facts(spec.path(declared.pack), updates)

    def find_server_files(self, spec: LoadedSpec, server: str,
                          wanted: Mapping[str, str]) -> dict[str, FoundFile]:
        """The bytes with the wanted digests, from change backups and snapshots."""
        declared = spec.env.servers.get(server)
        if declared is None:
            raise ValueError(f"server {server!r} is not in the spec")
        try:
            return find_server_files(spec, self.hosts.get(spec, declared.host), server,
                                     dict(wanted))
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Restore a snapshot into a database (`restore.database`) or a folder
        (`restore.paths`); failures become ActionFailed naming the action."""
        p = action.params
        try:
            repo = open_repository(ctx.spec, p["repository"])
            label = f"{p['repository']}:{p['series']}/{p['snapshot_id']}"
            restored = {"restored": {"snapshot": label, "at": ctx.now.isoformat()}}
            if action.type == "restore.database":
                message = restore_database(ctx.spec, ctx.resolve_secret, repo, p["series"],
                                           p["snapshot_id"], p["database"],
                                           replace=bool(p.get("replace")))
                return ActionOutcome(message=message, data=restored)
            done = restore_tree(repo, p["series"], p["snapshot_id"],
                                self.hosts.get(ctx.spec, p.get("host")),
                                PurePosixPath(p["dest"]), only=p.get("only"),
                                require_empty=bool(p.get("require_empty")),
                                paths=PathFilter(include=tuple(p.get("include") or ()),
                                                 exclude=tuple(p.get("exclude") or ())))
        except _FAILURES as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        skipped = f"; not in the snapshot: {', '.join(done.skipped)}" if done.skipped else ""
        return ActionOutcome(message=f"restored {', '.join(done.paths) or 'nothing'} "
                                     f"({done.entries} entries) from {label}{skipped}",
                             data=restored)


def repo_exists(repo: object, controller: Transport) -> bool:
    """True when a local repository's folder exists on the controller (other kinds:
    assumed reachable)."""
    path = getattr(repo, "path", None)
    return True if path is None else is_dir(controller, PurePosixPath(path))
