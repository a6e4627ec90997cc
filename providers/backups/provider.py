"""Backup policies: observe their catalog in every repository; create, copy, prune, verify.

Byte repositories (local, S3) get files and dumps; `type: aws` repositories hold RDS
snapshots and AMIs, taken, copied across regions and deleted through the RDS and EC2
APIs (`providers.aws.rds`, `providers.aws.ec2_images`). Listing, pruning and verifying
go through the storage-agnostic `SnapshotStore` interface, so they are the same for all.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeGuard, runtime_checkable

from engine.contracts.catalog import (
    CatalogEntry,
    SeriesCatalog,
    catalog_from_data,
    catalog_to_data,
)
from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ActionContext,
    ActionFailed,
    ActionOutcome,
    ObserveRequest,
    Provider,
)
from engine.contracts.queries import CatalogPort
from engine.killpoints import reached_inside
from engine.spec.loader import LoadedSpec
from providers.backup_sources import backup_paths
from providers.backups.artifacts import copy_snapshot_artifacts, store_server_artifacts
from providers.databases.engines import engine_for
from providers.databases.errors import DatabaseError
from providers.databases.targets import target_for
from providers.hosts.base import Transport
from providers.hosts.pool import HostPool
from providers.repositories.artifacts import ArtifactStore, DigestCache, referenced
from providers.repositories.base import Repository, SnapshotStore
from providers.repositories.errors import RepositoryError
from providers.repositories.factory import open_store
from providers.repositories.manifest import (
    Manifest,
    SnapshotFields,
    SnapshotSource,
    SourceKind,
)

if TYPE_CHECKING:
    from providers.aws.ec2_images import AmiStore
    from providers.aws.rds import RdsSnapshotStore

def entry_of(manifest: Manifest, repository: str) -> CatalogEntry:
    """The catalog entry of a manifest (the artifacts it names as bare digests: the full
    references stay in the manifest, and the catalog in the state stays small)."""
    facts = dict(manifest.source.facts)
    if isinstance(facts.get("artifacts"), list):
        facts["artifacts"] = sorted(referenced([facts]))
    return CatalogEntry(id=manifest.id, series=manifest.series, repository=repository,
                        created=manifest.created, size=manifest.size, tags=manifest.tags,
                        facts=facts)


@runtime_checkable
class ListsEntries(Protocol):
    """A store that describes its snapshots as catalog entries itself (RDS: sizes)."""

    def catalog_entries(self, series: str) -> list[CatalogEntry]:
        """The catalog entries of `series` in the store, oldest first."""
        ...


def series_listing(repo: SnapshotStore, series: str) -> list[dict[str, Any]]:
    """The JSON catalog entries of one series in one store (any kind), oldest first."""
    if isinstance(repo, ListsEntries):
        entries = repo.catalog_entries(series)
    else:
        entries = [entry_of(m, repo.name) for m in repo.list(series)]
    return catalog_to_data(entries).get(repo.name, [])


class BackupProvider(Provider, CatalogPort):
    """Runs backup actions against repositories and database engines."""

    kinds: ClassVar[tuple[str, ...]] = ("backup",)
    action_types: ClassVar[tuple[str, ...]] = (
        "backup.create", "backup.copy", "backup.prune", "backup.verify", "backup.catalog",
        "backup.pin", "backup.cleanup", "backup.prune-artifacts")

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.hosts = hosts or HostPool()
        self._digests: DigestCache = {}  # archives hashed this run (servers share packs)

    def close(self) -> None:
        """Release the run's host connections."""
        self.hosts.close()
        self._digests.clear()

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """List the series in the policy's repository and every copy target."""
        policy = request.spec.env.backups.get(request.address.split(".", 1)[1])
        if policy is None:
            return ObservedResource(address=request.address, exists=bool(request.recorded),
                                    attributes=dict(request.recorded or {}))
        series = request.address.split(".", 1)[1]
        catalog: dict[str, list[dict[str, Any]]] = {}
        leftovers: dict[str, list[dict[str, Any]]] = {}
        artifacts: dict[str, list[str]] = {}
        for name in [policy.repository, *policy.copies]:
            try:
                series = request.address.split(".", 1)[1]
                store = open_store(request.spec, name, series)
                catalog[name] = series_listing(store, series)
                if isinstance(store, Repository):
                    found = [{"id": item.id, "modified": item.modified.isoformat(),
                              "writer_gone": item.writer_gone}
                             for item in store.leftovers(series)]
                    if found:
                        leftovers[name] = found
                    if policy.source.server is not None:
                        artifacts[name] = ArtifactStore(store).digests()
            except RepositoryError as exc:
                raise ValueError(str(exc)) from exc
        attrs = dict(request.desired.attributes) if request.desired else {}
        facts: dict[str, Any] = {"catalog": catalog}
        if leftovers:
            facts["leftovers"] = leftovers
        if any(artifacts.values()):
            facts["artifacts"] = {r: d for r, d in artifacts.items() if d}
        return ObservedResource(address=request.address, exists=True, attributes=attrs,
                                facts=facts)

    def read_catalog(self, spec: LoadedSpec, series: str) -> SeriesCatalog:
        """The catalog of `series` in its policy's repository and every copy target."""
        policy = spec.env.backups.get(series)
        if policy is None:
            raise ValueError(f"no backup policy {series!r} in the spec")
        catalog: dict[str, list[dict[str, Any]]] = {}
        for name in [policy.repository, *policy.copies]:
            try:
                catalog[name] = series_listing(open_store(spec, name, series), series)
            except RepositoryError as exc:
                raise ValueError(str(exc)) from exc
        return catalog_from_data(series, {"catalog": catalog})

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Dispatch on the action type; repository and database errors become ActionFailed."""
        try:
            handler = {"backup.create": self._create, "backup.copy": self._copy,
                       "backup.prune": self._prune, "backup.verify": self._verify,
                       "backup.catalog": self._catalog, "backup.pin": self._pin,
                       "backup.cleanup": self._cleanup,
                       "backup.prune-artifacts": self._prune_artifacts}[action.type]
            return handler(action, ctx)
        except (RepositoryError, DatabaseError, OSError, ValueError) as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc

    def _create(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        store = open_store(ctx.spec, p["repository"], p["series"])
        if _is_rds(store):
            return self._create_rds(store, action, ctx)
        if _is_ami(store):
            return self._create_ami(store, action, ctx)
        repo = _bytes(store)
        series, sid, src = p["series"], p["snapshot_id"], p["source"]
        existing = {m.id for m in repo.list(series)}
        if sid not in existing:
            manifest = self._take(ctx, repo, series, sid, src, tuple(p.get("tags", [])))
            message = f"snapshot {sid}: {manifest.size} bytes in {len(manifest.parts)} part(s)"
        else:
            message = f"snapshot {sid} already exists"
        return ActionOutcome(message=message,
                             data={"catalog": {repo.name: series_listing(repo, series)}})

    def _take(self, ctx: ActionContext, repo: Repository, series: str, sid: str,
              src: dict[str, Any], tags: tuple[str, ...]) -> Manifest:
        if src["kind"] == "database":
            target = target_for(ctx.spec, src["database"], ctx.resolve_secret)
            engine = engine_for(target.engine)
            facts = engine.observe(target).model_dump(mode="json")
            fields = SnapshotFields(source=SnapshotSource(
                kind="database", address=src["address"], engine=target.engine, facts=facts),
                created=ctx.now, tags=tags)
            return repo.put(series, sid, [engine.dump_part(target)], fields)
        root = PurePosixPath(src["root"])
        host = self.hosts.get(ctx.spec, src.get("host") if src["kind"] == "server" else None)
        facts = self._server_facts(host, root) if src["kind"] == "server" else {}
        if src["kind"] == "server" and src.get("artifacts"):
            # the archives the home was built from go in first: a snapshot never names
            # an artifact its repository does not hold
            facts.update(store_server_artifacts(repo, src["artifacts"], facts["update_level"],
                                                facts["patches"], ctx.progress,
                                                digests=self._digests))
        fields = SnapshotFields(source=SnapshotSource(
            kind="server" if src["kind"] == "server" else "paths", address=src["address"],
            facts=facts), created=ctx.now, tags=tags)
        result = backup_paths(repo, series, sid, host, root, src["paths"], fields)
        for warning in result.warnings:
            ctx.progress(f"{series}: {warning}")
        return result.manifest

    @staticmethod
    def _server_facts(t: Transport, home: PurePosixPath) -> dict[str, Any]:
        from providers.product.observe import read_level, read_patches, read_product

        return {"update_level": read_level(t, home), "patches": read_patches(t, home),
                "product": read_product(t, home)}

    def _create_rds(self, store: RdsSnapshotStore, action: Action,
                    ctx: ActionContext) -> ActionOutcome:
        p = action.params
        src = p["source"]
        if src.get("engine") != "rds":
            raise ActionFailed(f"{action.id}: repository {store.name} holds RDS snapshots; "
                               f"back up {src['address']} into a local or s3 repository")
        fields = _aws_fields(action, ctx, store.region, f"RDS instance {src['identifier']!r}",
                             kind="database", engine="rds")
        snap, made = store.create(p["series"], p["snapshot_id"], instance=src["identifier"],
                                  fields=fields, progress=ctx.progress)
        message = (f"RDS snapshot {snap.identifier} of {snap.instance} in {store.region}: "
                   + ("taken" if made else "already exists"))
        return ActionOutcome(message=message, data={
            "catalog": {store.name: series_listing(store, p["series"])}})

    def _create_ami(self, store: AmiStore, action: Action,
                    ctx: ActionContext) -> ActionOutcome:
        p = action.params
        src = p["source"]
        if src.get("kind") != "ec2_instance" or not src.get("instance_id"):
            raise ActionFailed(f"{action.id}: repository {store.name} holds AMIs of EC2 hosts "
                               "with an instance_id; this source has none")
        fields = _aws_fields(action, ctx, store.region, f"instance {src['instance_id']}",
                             kind="host", engine="ec2-image")
        image, made = store.create(p["series"], p["snapshot_id"],
                                   instance_id=src["instance_id"],
                                   reboot=bool(src.get("reboot")), fields=fields,
                                   progress=ctx.progress)
        message = (f"AMI {image.image_id} of {src['instance_id']} in {store.region}: "
                   + ("made" if made else "already exists"))
        return ActionOutcome(message=message, data={
            "catalog": {store.name: series_listing(store, p["series"])}})

    def _copy(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        stores = (open_store(ctx.spec, p["from"], p["series"]),
                  open_store(ctx.spec, p["to"], p["series"]))
        if any(_is_aws(s) for s in stores):
            return self._copy_aws(stores[0], stores[1], action, ctx)
        source, dest = _bytes(stores[0]), _bytes(stores[1])
        artifacts = copy_snapshot_artifacts(dest, source,
                                            source.get_manifest(p["series"], p["snapshot_id"]))
        manifest = dest.copy_from(source, p["series"], p["snapshot_id"])
        check = dest.verify(p["series"], p["snapshot_id"])
        if not check.ok:
            raise ActionFailed(f"{action.id}: the copy in {dest.name} does not verify")
        also = f" with {artifacts} artifact(s) it names" if artifacts else ""
        return ActionOutcome(message=f"copied {manifest.id} ({manifest.size} bytes){also}, "
                                     "verified",
                             data={"catalog": {dest.name: series_listing(dest, p["series"])}})

    def _copy_aws(self, source: SnapshotStore, dest: SnapshotStore, action: Action,
                  ctx: ActionContext) -> ActionOutcome:
        p = action.params
        if not (_is_aws(source) and type(source) is type(dest)):
            raise ActionFailed(f"{action.id}: RDS snapshots and AMIs copy only between aws "
                               f"repositories ({source.name} -> {dest.name})")
        copy_from = dest.copy_from  # type: ignore[attr-defined]
        item, made = copy_from(source, p["series"], p["snapshot_id"], progress=ctx.progress)
        check = dest.verify(p["series"], p["snapshot_id"])
        if not check.ok:
            raise ActionFailed(f"{action.id}: the copy in {dest.name} is not available")
        what = "RDS snapshot" if _is_rds(dest) else "AMI"
        message = (f"copied {what} {item.label} to {dest.name} "
                   f"({'made' if made else 'already there'}), available")
        return ActionOutcome(message=message, data={
            "catalog": {dest.name: series_listing(dest, p["series"])}})

    def _prune(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        repo = open_store(ctx.spec, p["repository"], p["series"])
        present = {m.id for m in repo.list(p["series"])}
        if present and present <= {d["id"] for d in p["deletes"]}:
            raise ActionFailed(f"{action.id}: refusing to delete every snapshot of "
                               f"{p['series']} in {repo.name}")
        deleted = 0
        for item in p["deletes"]:
            repo.delete(p["series"], item["id"], missing_ok=True)
            deleted += 1
            reached_inside(f"deleted-{deleted}")
        return ActionOutcome(message=f"deleted {deleted} snapshot(s) from {repo.name}",
                             data={"catalog": {repo.name: series_listing(repo, p["series"])}})

    def _cleanup(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Remove the interrupted writes the plan listed, each re-checked to still be one."""
        p = action.params
        repo = _bytes(open_store(ctx.spec, p["repository"]))
        removed = [sid for sid in p["leftovers"] if repo.remove_leftover(p["series"], sid)]
        kept = len(p["leftovers"]) - len(removed)
        note = f" ({kept} had changed since the plan and were left)" if kept else ""
        return ActionOutcome(message=f"removed {len(removed)} unfinished snapshot folder(s) "
                                     f"of {p['series']} from {repo.name}{note}")

    def _prune_artifacts(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Delete the listed artifacts that, read again now, no manifest of any series in
        the repository names."""
        p = action.params
        repo = _bytes(open_store(ctx.spec, p["repository"]))
        named = referenced(m.source.facts for m in repo.list())
        store = ArtifactStore(repo)
        deleted = [sha for sha in p["unused"] if sha not in named and store.delete(sha)]
        kept = len(p["unused"]) - len(deleted)
        note = f"; {kept} are named again or gone already and were left" if kept else ""
        return ActionOutcome(message=f"deleted {len(deleted)} artifact(s) from {repo.name} that "
                                     f"no snapshot names{note}")

    def _verify(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        p = action.params
        repo = open_store(ctx.spec, p["repository"], p["series"])
        result = repo.verify(p["series"], p["snapshot_id"])
        if not result.ok:
            bad = [f"{c.name} ({c.problem or 'sha256 mismatch'})" for c in result.parts
                   if not c.ok]
            raise ActionFailed(f"snapshot {p['snapshot_id']} in {repo.name} is damaged: "
                               f"{', '.join(bad)}; restore from a copy or another snapshot")
        return ActionOutcome(message=f"snapshot {p['snapshot_id']} in {repo.name}: all parts "
                             "verified", data={"verified": {p["snapshot_id"]: ctx.now.isoformat()}})


    @staticmethod
    def _catalog(action: Action, ctx: ActionContext) -> ActionOutcome:
        """The catalog read from the repositories when the rebuild was planned, recorded."""
        p = action.params
        return ActionOutcome(message=f"catalog rebuilt for {p['series']}",
                             data={"catalog": dict(p["catalog"])})

    @staticmethod
    def _pin(action: Action, ctx: ActionContext) -> ActionOutcome:
        """Pins live in the state only: the outcome records the new list."""
        p = action.params
        return ActionOutcome(message=f"pins of {p['series']}: {', '.join(p['pins']) or 'none'}",
                             data={"pins": list(p["pins"])})
def _aws_fields(action: Action, ctx: ActionContext, region: str, what: str, *,
                kind: SourceKind, engine: str) -> SnapshotFields:
    """The fields of a snapshot AWS takes in `region`; refuses a source in another one."""
    p = action.params
    if p["source"].get("region") != region:
        raise ActionFailed(f"{action.id}: {what} is in region {p['source'].get('region')} but "
                           f"repository {p['repository']} is in {region}; AWS snapshots are "
                           "taken in the source's region and copied to others")
    return SnapshotFields(source=SnapshotSource(kind=kind, address=p["source"]["address"],
                                                engine=engine),
                          created=ctx.now, tags=tuple(p.get("tags", [])))


def _is_rds(store: SnapshotStore) -> TypeGuard[RdsSnapshotStore]:
    """True for a store of RDS snapshots (imported only when one is in use)."""
    from providers.aws.rds import RdsSnapshotStore

    return isinstance(store, RdsSnapshotStore)


def _is_ami(store: SnapshotStore) -> TypeGuard[AmiStore]:
    """True for a store of AMIs (imported only when one is in use)."""
    from providers.aws.ec2_images import AmiStore

    return isinstance(store, AmiStore)


def _is_aws(store: SnapshotStore) -> bool:
    """True for a store AWS keeps (RDS snapshots, AMIs)."""
    return _is_rds(store) or _is_ami(store)


def _bytes(store: SnapshotStore) -> Repository:
    """`store` as a byte repository (what `open_store` returns for local and s3)."""
    if not isinstance(store, Repository):
        raise RepositoryError(f"repository {store.name} holds no files or dumps")
    return store
