"""Spec models for where things run: sites, hosts, products and servers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from engine.spec.common import Duration, JsonValue, SecretRef, SpecModel, check_patch_id


class Site(SpecModel):
    """A location (data centre, region); hosts and repositories belong to one."""

    description: str = ""


class KeyFile(SpecModel):
    """A file named by the spec (`{file: PATH}`), relative to the spec folder; `~` expands."""

    file: str


SSH_ONLY = ("address", "port", "user", "identity", "known_hosts")
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
    """A machine reached through a transport; server homes are relative to its root.

    `local` is the machine drydock runs on; `ssh` reaches `address` with strict host-key
    checking against `known_hosts` (default `~/.ssh/known_hosts`). An EC2 host (`aws`) may
    leave `address` open: its instance's private IP is used, the one recover launched.
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
        if self.transport == "ssh" and not self.address and self.aws is None:
            raise ValueError("a host with transport: ssh needs an 'address'")
        if self.transport == "ssh" and not self.root.startswith("/"):
            raise ValueError("an ssh host's 'root' must be an absolute path on that host")
        return self
    aws: Ec2Host | None = None


class Product(SpecModel):
    """A product distribution: its pack, and folders of update packages and patches."""

    layout: Literal["carbon"] = "carbon"
    pack: str
    updates: str | None = None
    patches: str | None = None
    name: str | None = None
    version: str | None = None


MAX_UPDATE_LEVEL = 9999  # update numbers are four digits (WSO2-CARBON-UPDATE-4.9.0-NNNN)
_MODE_RE = re.compile(r"^(?:0o|0)?([0-7]{3})$")


def parse_mode(value: object) -> int:
    """A file mode from a spec: the string `"0640"` (or `"640"`, `"0o640"`), 0 to 0777.

    Integers from older specs are read as the number they are (`420` is 0644, and
    YAML's unquoted `0640` is already octal); an integer such as `400` or `644`, which
    only makes sense as octal digits, is refused so it is not taken for the wrong mode.
    Raises ValueError naming the accepted form.

    >>> oct(parse_mode("0640"))
    '0o640'
    """
    if isinstance(value, str):
        match = _MODE_RE.match(value.strip())
        if not match:
            raise ValueError(f"mode {value!r} is not a file mode; write it as octal digits "
                             "from \"0000\" to \"0777\", e.g. \"0640\"")
        return int(match.group(1), 8)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        if len(digits) == 3 and set(digits) <= set("04567"):
            raise ValueError(f"mode {value} reads as the number {value} (0{value:o}), not "
                             f"as 0{value}; write it as a string: \"0{value}\"")
        if not 0 <= value <= 0o777:
            raise ValueError(f"mode {value} is outside 0 to 0777; write it as a string of "
                             "octal digits, e.g. \"0640\"")
        return value
    raise ValueError("mode must be a string of octal digits, e.g. \"0640\"")


def check_level(value: int) -> int:
    """An update level from a spec: -1 (never updated) to MAX_UPDATE_LEVEL."""
    if not -1 <= value <= MAX_UPDATE_LEVEL:
        raise ValueError(f"update level {value} is out of range: levels run from -1 (never "
                         f"updated) to {MAX_UPDATE_LEVEL}")
    return value


Mode = Annotated[int, BeforeValidator(parse_mode), WithJsonSchema({"anyOf": [
    {"type": "string", "pattern": "^(0o|0)?[0-7]{3}$", "examples": ["0640"]},
    {"type": "integer", "minimum": 0, "maximum": 511}]})]
UpdateLevel = Annotated[int, AfterValidator(check_level), WithJsonSchema(
    {"type": "integer", "minimum": -1, "maximum": MAX_UPDATE_LEVEL})]
Whitespace = Literal["jinja", "ansible"]


class ConfigFile(SpecModel):
    """One managed file in a server home, rendered from a template or given inline."""

    template: str | None = None
    content: str | None = None
    vars: dict[str, JsonValue] = Field(default_factory=dict)
    mode: Mode = 0o644
    whitespace: Whitespace = Field(
        default="jinja",
        description="Template whitespace rules: `jinja` (Jinja's defaults) or `ansible` "
                    "(as Ansible's template module: `trim_blocks`, trailing newline kept, a "
                    "`#jinja2:` first line honoured).")

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
    update_level: UpdateLevel | None = None
    strategy: Literal["in-place", "replace"] = "in-place"
    conflicts: Literal["refuse", "overwrite"] = "refuse"
    patches: list[str] = Field(default_factory=list)
    config: dict[str, ConfigFile] = Field(default_factory=dict)
    service: Service | None = None
    rollout: Rollout | None = None
    ignore: list[str] = Field(default_factory=list)

    @field_validator("patches")
    @classmethod
    def _patch_ids(cls, value: list[str]) -> list[str]:
        for patch in value:
            check_patch_id(patch)
        return value
