"""Spec models for where things run: sites, hosts, products and servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from engine.spec.common import Duration, JsonValue, SecretRef, SpecModel


class Site(SpecModel):
    """A location (data centre, region); hosts and repositories belong to one."""

    description: str = ""


class KeyFile(SpecModel):
    """A file named by the spec (`{file: PATH}`), relative to the spec folder; `~` expands."""

    file: str


SSH_ONLY = ("address", "port", "user", "identity", "known_hosts")


class Host(SpecModel):
    """A machine reached through a transport; server homes are relative to its root.

    `local` is the machine drydock runs on; `ssh` reaches `address` with strict host-key
    checking against `known_hosts` (default `~/.ssh/known_hosts`).
    """

    site: str
    transport: Literal["local", "ssh"] = "local"
    root: str
    address: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    user: str | None = None
    identity: SecretRef | None = None
    known_hosts: KeyFile | None = None
    connect_timeout: Duration = timedelta(seconds=10)
    command_timeout: Duration = timedelta(seconds=300)

    @field_validator(*SSH_ONLY)
    @classmethod
    def _ssh_only(cls, value: object, info: ValidationInfo) -> object:
        if info.data.get("transport", "local") != "ssh" and value is not None:
            raise ValueError(f"'{info.field_name}' is only for hosts with transport: ssh")
        return value

    @field_validator("connect_timeout", "command_timeout")
    @classmethod
    def _positive(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(f"'{info.field_name}' must be longer than 0s")
        return value

    @model_validator(mode="after")
    def _ssh_needs_address(self) -> Host:
        if self.transport == "ssh" and not self.address:
            raise ValueError("a host with transport: ssh needs an 'address'")
        if self.transport == "ssh" and not self.root.startswith("/"):
            raise ValueError("an ssh host's 'root' must be an absolute path on that host")
        return self


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
