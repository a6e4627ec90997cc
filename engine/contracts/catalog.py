"""The snapshot catalog as the engine sees it: entries per repository (pure models)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CatalogEntry(BaseModel):
    """One snapshot of one series in one repository."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    series: str
    repository: str
    created: AwareDatetime
    size: int = 0
    tags: tuple[str, ...] = ()
    facts: dict[str, Any] = Field(default_factory=dict)


class SeriesCatalog(BaseModel):
    """Every snapshot of one series, per repository, oldest first within each."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: str
    repos: dict[str, tuple[CatalogEntry, ...]] = Field(default_factory=dict)

    def ids(self, repository: str) -> set[str]:
        """Snapshot ids present in `repository`."""
        return {e.id for e in self.repos.get(repository, ())}

    def newest(self, repository: str) -> CatalogEntry | None:
        """The newest snapshot in `repository`, or None."""
        entries = self.repos.get(repository, ())
        return max(entries, key=lambda e: e.created) if entries else None

    def copies_of(self, snapshot_id: str) -> list[str]:
        """Repositories holding `snapshot_id`."""
        return sorted(r for r, entries in self.repos.items()
                      if any(e.id == snapshot_id for e in entries))


def catalog_from_data(series: str, data: Mapping[str, Any] | None) -> SeriesCatalog:
    """Rebuild a SeriesCatalog from its JSON form (observed facts or recorded data)."""
    repos = (data or {}).get("catalog", {})
    return SeriesCatalog(series=series, repos={
        repo: tuple(sorted((CatalogEntry.model_validate(e) for e in entries),
                           key=lambda e: (e.created, e.id)))
        for repo, entries in repos.items()
    })


def catalog_to_data(entries: Iterable[CatalogEntry]) -> dict[str, list[dict[str, Any]]]:
    """The JSON form: repository -> entries, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in sorted(entries, key=lambda e: (e.repository, e.created, e.id)):
        out.setdefault(e.repository, []).append(e.model_dump(mode="json"))
    return out


def age(entry: CatalogEntry | None, now: datetime) -> float | None:
    """Seconds since `entry` was created, or None when there is none."""
    return None if entry is None else (now - entry.created).total_seconds()
