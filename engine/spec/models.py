"""The environment model: every section of a spec directory, merged and validated."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from engine.spec.common import JsonValue, SecretRef, SpecModel, check_name
from engine.spec.data import (
    BackupPolicy,
    BackupSource,
    Database,
    Drill,
    DrillCheck,
    DrillTarget,
    LocalRepository,
    RdsDatabase,
    RecoverMapping,
    Repository,
    S3Repository,
    ServerDatabase,
    SqliteDatabase,
)
from engine.spec.infra import ConfigFile, HealthCheck, Host, Product, Rollout, Server, Service, Site
from engine.spec.keep import KeepPolicy

__all__ = [
    "BackupPolicy", "BackupSource", "ConfigFile", "Database", "Drill", "DrillCheck",
    "DrillTarget", "Environment", "HealthCheck", "Host", "IgnoreRule", "KeepPolicy",
    "LocalRepository", "Product", "RdsDatabase", "RecoverMapping", "Repository", "Rollout",
    "S3Repository", "SecretRef", "Server", "ServerDatabase", "Service", "Site",
    "SqliteDatabase", "StateConfig",
]


class StateConfig(SpecModel):
    """Where the environment's state document lives."""

    backend: Literal["local", "s3"] = "local"
    path: str | None = None
    bucket: str | None = None
    key: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


class IgnoreRule(SpecModel):
    """Attributes whose drift is noise: `{address: server.gw-1, attributes: ["config:*"]}`."""

    address: str = "*"
    attributes: list[str]


SECTIONS = (
    "sites", "hosts", "products", "servers", "databases", "repositories", "backups",
    "drills", "recover",
)


class Environment(SpecModel):
    """One environment: the merged content of `specs/<name>/*.yaml`."""

    environment: str
    vars: dict[str, JsonValue] = Field(default_factory=dict)
    state: StateConfig = Field(default_factory=StateConfig)
    sites: dict[str, Site] = Field(default_factory=dict)
    hosts: dict[str, Host] = Field(default_factory=dict)
    products: dict[str, Product] = Field(default_factory=dict)
    servers: dict[str, Server] = Field(default_factory=dict)
    databases: dict[str, Database] = Field(default_factory=dict)
    repositories: dict[str, Repository] = Field(default_factory=dict)
    backups: dict[str, BackupPolicy] = Field(default_factory=dict)
    drills: dict[str, Drill] = Field(default_factory=dict)
    recover: dict[str, RecoverMapping] = Field(default_factory=dict)
    ignore: list[IgnoreRule] = Field(default_factory=list)

    @field_validator(*SECTIONS)
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            check_name(name, "resource")
        return value
