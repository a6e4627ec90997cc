"""Open the repository a spec names: a local directory, an S3 bucket, RDS snapshots or AMIs."""

from __future__ import annotations

from engine.spec.common import SecretRef
from engine.spec.data import AwsRepository as AwsRepositorySpec
from engine.spec.loader import LoadedSpec
from engine.spec.models import LocalRepository as LocalRepositorySpec
from engine.spec.models import S3Repository as S3RepositorySpec
from providers.repositories.authenticity import KeySource
from providers.repositories.base import Repository, SnapshotStore
from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository


def open_repository(spec: LoadedSpec, name: str) -> Repository:
    """The byte repository called `name` in the spec.

    Takes the loaded spec and the repository's name. Returns a LocalRepository or an
    S3Repository (credentials come from the environment, never from the spec). Raises
    RepositoryError when the name is not declared or it is not a byte repository (an
    `aws` repository holds RDS snapshots: open it with `open_store`).
    """
    declared = spec.env.repositories.get(name)
    if declared is None:
        raise RepositoryError(f"repository {name!r} is not declared in the spec")
    repo: Repository
    if isinstance(declared, LocalRepositorySpec):
        repo = LocalRepository(name, spec.path(declared.path))
    elif isinstance(declared, S3RepositorySpec):
        from providers.repositories.s3 import S3Repository

        repo = S3Repository(name, declared.bucket, declared.prefix, declared.region,
                            endpoint_url=declared.endpoint_url)
    if isinstance(declared, LocalRepositorySpec | S3RepositorySpec):
        if declared.hmac_key is not None:
            repo.mac_key = _key_source(spec, name, declared.hmac_key)
        return repo
    if isinstance(declared, AwsRepositorySpec):
        raise RepositoryError(f"repository {name!r} holds AWS RDS snapshots, not files or "
                              "dumps; use a local or s3 repository for this")
    raise RepositoryError(f"repository {name!r}: type {declared.type!r} is not supported yet")


def image_series(spec: LoadedSpec, series: str | None) -> bool:
    """True when `series` is a policy whose source is an EC2 host (its snapshots are AMIs)."""
    policy = spec.env.backups.get(series or "")
    return policy is not None and policy.source.ec2_instance is not None
def _key_source(spec: LoadedSpec, name: str, ref: SecretRef) -> KeySource:
    """Resolve the repository's hmac_key only when a manifest is signed or checked."""

    def key() -> bytes:
        from engine.secrets import SecretError, resolve_secret

        try:
            value = resolve_secret(ref, spec.directory)
        except SecretError as exc:
            raise RepositoryError(f"repository {name}: hmac_key: {exc}") from None
        if len(value) < 16:
            raise RepositoryError(f"repository {name}: hmac_key {ref.describe()} is shorter "
                                  "than 16 characters; use a long random value")
        return value.encode()

    return key


def open_store(spec: LoadedSpec, name: str, series: str | None = None) -> SnapshotStore:
    """The snapshot store called `name` (for `series`, when given): any repository.

    Takes the loaded spec, the repository's name and optionally the series. A `type:
    aws` repository is an AmiStore for a series of an `ec2_instance` policy and an
    RdsSnapshotStore otherwise (in its region, at its endpoint_url when given); other
    types are what `open_repository` returns. Raises RepositoryError when the name is
    not declared.
    """
    declared = spec.env.repositories.get(name)
    if isinstance(declared, AwsRepositorySpec):
        if image_series(spec, series):
            from providers.aws.ec2_images import AmiStore

            return AmiStore(name, declared.region, endpoint_url=declared.endpoint_url,
                            kms_key_id=declared.kms_key_id)
        from providers.aws.rds import RdsSnapshotStore

        return RdsSnapshotStore(name, declared.region, endpoint_url=declared.endpoint_url,
                                kms_key_id=declared.kms_key_id)
    return open_repository(spec, name)


def open_stores(spec: LoadedSpec, name: str) -> list[SnapshotStore]:
    """Every store a repository holds: a `type: aws` one holds RDS snapshots and, when a
    policy takes AMIs, AMIs; any other is one store."""
    stores = [open_store(spec, name)]
    if isinstance(spec.env.repositories.get(name), AwsRepositorySpec):
        images = [s for s, p in spec.env.backups.items() if p.source.ec2_instance is not None
                  and name in (p.repository, *p.copies)]
        if images:
            stores.append(open_store(spec, name, images[0]))
    return stores
