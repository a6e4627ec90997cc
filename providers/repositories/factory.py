"""Open the repository a spec names (local today; S3 and AWS stores plug in here)."""

from __future__ import annotations

from engine.spec.loader import LoadedSpec
from engine.spec.models import LocalRepository as LocalRepositorySpec
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.local import LocalRepository


def open_repository(spec: LoadedSpec, name: str) -> Repository:
    """The repository called `name` in the spec; RepositoryError when unknown or unsupported."""
    declared = spec.env.repositories.get(name)
    if declared is None:
        raise RepositoryError(f"repository {name!r} is not declared in the spec")
    if isinstance(declared, LocalRepositorySpec):
        return LocalRepository(name, spec.path(declared.path))
    raise RepositoryError(f"repository {name!r}: type {declared.type!r} is not supported yet")
