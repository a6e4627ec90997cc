"""Spec models for where things run: sites, hosts, products and servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, model_validator

from engine.spec.common import Duration, JsonValue, SpecModel


class Site(SpecModel):
    """A location (data centre, region); hosts and repositories belong to one."""

    description: str = ""


class Ec2Host(SpecModel):
    """The EC2 instance a host is: an existing one (`instance_id`), or the one `recover`
    launches from the newest AMI of the host it replaces (`instance_type`, `subnet_id`,
    `security_group_ids`, `key_name`, `iam_instance_profile`, `tags`; `image` pins an AMI
    instead). No credentials here: boto3's standard chain provides them."""

    region: str
    instance_id: str | None = None
    endpoint_url: str | None = None
    instance_type: str | None = None
    subnet_id: str | None = None
    security_group_ids: list[str] = Field(default_factory=list)
    key_name: str | None = None
    iam_instance_profile: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    image: str | None = None

    @model_validator(mode="after")
    def _existing_or_launched(self) -> Ec2Host:
        launch = [k for k in ("instance_type", "subnet_id", "key_name", "iam_instance_profile",
                              "image") if getattr(self, k) is not None]
        if self.instance_id is not None and (launch or self.security_group_ids):
            raise ValueError("an EC2 host is either an existing instance (instance_id) or one "
                             f"recover launches ({', '.join(launch or ['security_group_ids'])}),"
                             " not both")
        if self.instance_id is None and (self.instance_type is None or self.subnet_id is None):
            raise ValueError("an EC2 host needs 'instance_id' (an existing instance) or "
                             "'instance_type' and 'subnet_id' (launched by recover)")
        if any(k.startswith("aws:") for k in self.tags):
            raise ValueError("tags starting with 'aws:' are AWS's own")
        return self

    @property
    def launched(self) -> bool:
        """True when recover launches this instance (no instance_id declared)."""
        return self.instance_id is None


class Host(SpecModel):
    """A machine reached through a transport; server homes are relative to its root."""

    site: str
    transport: Literal["local"] = "local"
    root: str
    aws: Ec2Host | None = None


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
    """How to tell a started server is healthy: an HTTP URL or a command."""

    http: str | None = None
    command: str | None = None
    expect_status: int = 200
    timeout: Duration = timedelta(seconds=120)

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
