"""What every drydock snapshot kept by AWS is (pure): series, id, time, tags, and the
catalog entry and part-less manifest it stands for. `RdsSnapshot` and `Ami` add what
their service reports."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, JsonValue

from engine.contracts.catalog import CatalogEntry
from providers.aws.tagging import tag_list
from providers.repositories.manifest import Manifest, SnapshotSource


class AwsSnapshot(BaseModel):
    """A drydock snapshot AWS keeps the bytes of, in one region."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_kind: ClassVar[Literal["database", "host"]] = "database"
    source_engine: ClassVar[str] = ""

    region: str
    series: str
    id: str
    created: AwareDatetime
    size: int = 0
    source: str
    tags: tuple[str, ...] = ()
    tool_version: str = "0+unknown"
    tag_list: tuple[tuple[str, str], ...] = ()

    def facts(self) -> dict[str, JsonValue]:
        """What is worth keeping about it in catalogs and manifests."""
        return {}

    def manifest(self) -> Manifest:
        """It as a Manifest without parts (AWS keeps the bytes, not drydock)."""
        return Manifest(series=self.series, id=self.id, created=self.created, parts=(),
                        tool_version=self.tool_version, tags=self.tags,
                        source=SnapshotSource(kind=self.source_kind, address=self.source,
                                              engine=self.source_engine, facts=self.facts()))

    def entry(self, repository: str) -> CatalogEntry:
        """Its catalog entry in `repository`."""
        return CatalogEntry(id=self.id, series=self.series, repository=repository,
                            created=self.created, size=self.size, tags=self.tags,
                            facts=dict(self.facts()))

    def copy_tags(self) -> list[dict[str, str]]:
        """Its tags to give its copy (``aws:`` tags are AWS's own)."""
        return tag_list(self.tag_list)
