"""The restore provider: describes repositories and snapshots, finds a server's recorded
bytes, and runs the restore actions.

Observed kinds (read-only, for planning restores and recoveries):
- `repository.<name>`: facts `snapshots`, every complete snapshot there (SnapshotInfo;
  `type: aws` repositories list their RDS snapshots, restored by `rds.restore`, and
  their AMIs, launched by `ec2.launch`);
- `snapshot.<repository>:<series>/<id>`: with `data={"files": [...], "verify": bool}`,
  facts `files` (path -> `sha256:<hex>` of those files in the snapshot), `verified`
  and `problem` (the stored parts re-hashed against the manifest);
- `server-files.<server>`: with `data={"wanted": {path: "sha256:..."}}`, facts `found`
  (path -> {source, text}) from change backups and snapshots;
- `pack.<product>`: facts `update_level` (the level the product's pack installs) and
  `product`.

Actions: `restore.database` and `restore.paths`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from engine.model import Action, ObservedResource
from providers.backup_sources import PathsError
from providers.base import ActionContext, ActionFailed, ActionOutcome, ObserveRequest, Provider
from providers.databases.errors import DatabaseError
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_repository, open_store, open_stores
from providers.restore.actions import RestoreRefused, restore_database, restore_tree
from providers.restore.server_files import find_server_files
from providers.restore.snapshots import list_snapshots, tar_members

_FAILURES = (RepositoryError, DatabaseError, PathsError, RestoreRefused, OSError, ValueError)


def _snapshot_address(address: str) -> tuple[str, str, str]:
    rest = address.split(".", 1)[1]
    repo, _, rest = rest.partition(":")
    series, _, sid = rest.partition("/")
    if not (repo and series and sid):
        raise ValueError(f"{address}: expected snapshot.<repository>:<series>/<id>")
    return repo, series, sid


class RestoreProvider(Provider):
    """Reads snapshots for restore planning; restores them into databases and folders."""

    kinds: ClassVar[tuple[str, ...]] = ("repository", "snapshot", "server-files", "pack")
    action_types: ClassVar[tuple[str, ...]] = ("restore.database", "restore.paths")

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """Describe a repository, a snapshot or the found bytes of a server's files."""
        try:
            if request.kind == "repository":
                return self._repository(request)
            if request.kind == "snapshot":
                return self._snapshot(request)
            if request.kind == "pack":
                return self._pack(request)
            return self._server_files(request)
        except RepositoryError as exc:
            raise ValueError(str(exc)) from exc

    @staticmethod
    def _repository(request: ObserveRequest) -> ObservedResource:
        stores = open_stores(request.spec, request.address.split(".", 1)[1])
        snaps = [s.model_dump(mode="json") for repo in stores for s in list_snapshots(repo)]
        return ObservedResource(address=request.address, exists=repo_exists(stores[0]),
                                facts={"snapshots": snaps})

    @staticmethod
    def _snapshot(request: ObserveRequest) -> ObservedResource:
        repo_name, series, sid = _snapshot_address(request.address)
        repo = open_store(request.spec, repo_name, series)
        facts: dict[str, Any] = {}
        if request.data.get("verify"):
            result = repo.verify(series, sid)
            bad = [f"{c.name}: {c.problem or 'sha256 mismatch'}" for c in result.parts if not c.ok]
            facts["verified"] = result.ok
            facts["problem"] = "; ".join(bad) or None
            if not result.ok:
                return ObservedResource(address=request.address, exists=True, facts=facts)
        files = request.data.get("files")
        if files and isinstance(repo, Repository):
            members = tar_members(repo, series, sid, list(files))
            facts["files"] = {path: "sha256:" + m.sha256 for path, m in members.items()}
        return ObservedResource(address=request.address, exists=True, facts=facts)

    @staticmethod
    def _pack(request: ObserveRequest) -> ObservedResource:
        from providers.product.install import pack_facts

        name = request.address.split(".", 1)[1]
        product = request.spec.env.products.get(name)
        if product is None:
            raise ValueError(f"product {name!r} is not in the spec")
        found, level = pack_facts(request.spec.path(product.pack))
        return ObservedResource(address=request.address, exists=True,
                                facts={"update_level": level, "product": found})

    @staticmethod
    def _server_files(request: ObserveRequest) -> ObservedResource:
        server = request.address.split(".", 1)[1]
        found = find_server_files(request.spec, server, dict(request.data.get("wanted", {})))
        return ObservedResource(address=request.address, exists=bool(found),
                                facts={"found": {k: v.model_dump() for k, v in found.items()}})

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
            done = restore_tree(repo, p["series"], p["snapshot_id"], Path(p["dest"]),
                                only=p.get("only"), require_empty=bool(p.get("require_empty")))
        except _FAILURES as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        skipped = f"; not in the snapshot: {', '.join(done.skipped)}" if done.skipped else ""
        return ActionOutcome(message=f"restored {', '.join(done.paths) or 'nothing'} "
                                     f"({done.entries} entries) from {label}{skipped}",
                             data=restored)


def repo_exists(repo: object) -> bool:
    """True when a local repository's folder exists (other kinds: assumed reachable)."""
    path = getattr(repo, "path", None)
    return True if path is None else Path(path).is_dir()
