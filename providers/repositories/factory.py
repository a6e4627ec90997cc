"""Open the repository a spec names: a local directory or an S3 bucket (AWS stores later)."""

from __future__ import annotations

from engine.spec.loader import LoadedSpec
from engine.spec.models import LocalRepository as LocalRepositorySpec
from engine.spec.models import S3Repository as S3RepositorySpec
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository


def open_repository(spec: LoadedSpec, name: str) -> Repository:
    """The repository called `name` in the spec.

    Takes the loaded spec and the repository's name. Returns a LocalRepository or an
    S3Repository (credentials come from the environment, never from the spec). Raises
    RepositoryError when the name is not declared or its type is not supported.
    """
    declared = spec.env.repositories.get(name)
    if declared is None:
        raise RepositoryError(f"repository {name!r} is not declared in the spec")
    if isinstance(declared, LocalRepositorySpec):
        return LocalRepository(name, spec.path(declared.path))
    if isinstance(declared, S3RepositorySpec):
        from providers.repositories.s3 import S3Repository

        return S3Repository(name, declared.bucket, declared.prefix, declared.region,
                            endpoint_url=declared.endpoint_url)
    raise RepositoryError(f"repository {name!r}: type {declared.type!r} is not supported yet")
