"""Spec models for where things run: sites, hosts, products and servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from engine.spec.common import Duration, JsonValue, SpecModel


class Site(SpecModel):
    """A location (data centre, region); hosts and repositories belong to one."""

    description: str = ""


class Host(SpecModel):
    """A machine reached through a transport; server homes are relative to its root."""

    site: str
    transport: Literal["local"] = "local"
    root: str


class Product(SpecModel):
    """A product distribution: its pack, and folders of update packages and patches."""

    layout: Literal["carbon"] = "carbon"
    pack: str
    updates: str | None = None
    patches: str | None = None
    name: str | None = None
    version: str | None = None


class ConfigFile(SpecModel):
    """One managed file in a server home, rendered from a template or given inline."""

    template: str | None = None
    content: str | None = None
    vars: dict[str, JsonValue] = Field(default_factory=dict)
    mode: int = 0o644

    @model_validator(mode="after")
    def _one_source(self) -> ConfigFile:
        if (self.template is None) == (self.content is None):
            raise ValueError("a config file needs exactly one of 'template' or 'content'")
        return self


class HealthCheck(SpecModel):
    """How to tell a started server is healthy: an HTTP URL or a command.

    Both run where the service is, on the server's host (the URL is fetched there, so
    `127.0.0.1` means the server's own machine); `from: controller` fetches the URL from
    where drydock runs instead.
    """

    http: str | None = None
    command: str | None = None
    expect_status: int = 200
    timeout: Duration = timedelta(seconds=120)
    from_: Literal["host", "controller"] = Field(default="host", alias="from")

    @model_validator(mode="after")
    def _one_probe(self) -> HealthCheck:
        if (self.http is None) == (self.command is None):
            raise ValueError("a health check needs exactly one of 'http' or 'command'")
        return self


class Service(SpecModel):
    """Service lifecycle commands, relative to the server home (no shell involved)."""

    start: str
    stop: str
    health: HealthCheck | None = None


class Rollout(SpecModel):
    """Servers sharing a group change at most `max_unavailable` at a time."""

    group: str
    max_unavailable: int = Field(default=1, ge=1)


class Server(SpecModel):
    """A product installation on a host, with its update level, patches and config."""

    host: str
    product: str
    home: str
    update_level: int | None = Field(default=None, ge=-1)
    strategy: Literal["in-place", "replace"] = "in-place"
    conflicts: Literal["refuse", "overwrite"] = "refuse"
    patches: list[str] = Field(default_factory=list)
    config: dict[str, ConfigFile] = Field(default_factory=dict)
    service: Service | None = None
    rollout: Rollout | None = None
    ignore: list[str] = Field(default_factory=list)
