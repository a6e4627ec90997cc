"""Spec models for data: databases, repositories, backup policies, drills, recovery."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.spec.common import Duration, SecretRef, SpecModel
from engine.spec.keep import KeepPolicy


class SqliteDatabase(SpecModel):
    """An SQLite database file (the embedded default)."""

    engine: Literal["sqlite"]
    path: str
    site: str | None = None


class ServerDatabase(SpecModel):
    """A PostgreSQL or MariaDB/MySQL database reached over the network."""

    engine: Literal["postgres", "mysql", "mariadb"]
    host: str = "127.0.0.1"
    port: int | None = None
    user: str | None = None
    dbname: str
    password: SecretRef | None = None
    site: str | None = None

    @property
    def effective_port(self) -> int:
        """The declared port, or the engine's default."""
        return self.port or (5432 if self.engine == "postgres" else 3306)


class RdsDatabase(SpecModel):
    """An AWS RDS instance, backed up by RDS snapshots."""

    engine: Literal["rds"]
    identifier: str
    region: str
    site: str | None = None


Database = Annotated[
    SqliteDatabase | ServerDatabase | RdsDatabase, Field(discriminator="engine")
]


class LocalRepository(SpecModel):
    """A backup repository in a local (or mounted) directory."""

    type: Literal["local"]
    site: str
    path: str


class S3Repository(SpecModel):
    """A backup repository in an S3 bucket."""

    type: Literal["s3"]
    site: str
    bucket: str
    prefix: str = ""
    region: str
    endpoint_url: str | None = None


class AwsRepository(SpecModel):
    """AWS-native snapshot stores (AMIs, RDS snapshots) in one region."""

    type: Literal["aws"]
    site: str
    region: str
    endpoint_url: str | None = None


Repository = Annotated[
    LocalRepository | S3Repository | AwsRepository, Field(discriminator="type")
]


class BackupSource(SpecModel):
    """What a backup policy copies: a database, a server's paths, or plain paths."""

    database: str | None = None
    server: str | None = None
    paths: list[str] | None = None
    root: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> BackupSource:
        kinds = [k for k in (self.database, self.server, self.root) if k is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a backup source needs exactly one of 'database', 'server' or 'root' "
                "(plain paths under a root)"
            )
        if self.database is not None and self.paths is not None:
            raise ValueError("'paths' goes with 'server' or 'root', not with 'database'")
        return self


class BackupPolicy(SpecModel):
    """A series of snapshots: how often (RPO), how long (retention), where and copies."""

    source: BackupSource
    every: Duration
    keep: KeepPolicy = Field(default_factory=KeepPolicy)
    timezone: str = "UTC"
    repository: str
    copies: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    pinned: list[str] = Field(default_factory=list)


class DrillTarget(SpecModel):
    """The scratch target a drill restores into."""

    database: Database | None = None
    directory: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DrillTarget:
        if (self.database is None) == (self.directory is None):
            raise ValueError("a drill target needs exactly one of 'database' or 'directory'")
        return self


class DrillCheck(SpecModel):
    """One verification a drill runs on the restored data."""

    sql: str | None = None
    expect: str | None = None
    files: list[str] | None = None
    command: str | None = None

    @model_validator(mode="after")
    def _one_check(self) -> DrillCheck:
        kinds = [k for k in (self.sql, self.files, self.command) if k is not None]
        if len(kinds) != 1:
            raise ValueError("a drill check needs exactly one of 'sql', 'files' or 'command'")
        return self


class Drill(SpecModel):
    """A scheduled restore test of a backup series, measured against an RTO."""

    backup: str
    from_: str | None = Field(default=None, alias="from")
    every: Duration
    pick: Literal["newest", "random"] = "newest"
    window: Duration | None = None
    into: DrillTarget
    verify: list[DrillCheck] = Field(default_factory=list)
    rto: Duration = timedelta(minutes=15)


class RecoverMapping(SpecModel):
    """Which hosts and databases take over at a site when another site is lost."""

    hosts: dict[str, str] = Field(default_factory=dict)
    databases: dict[str, str] = Field(default_factory=dict)
    repositories: list[str] | None = None
