"""Spec models for data: databases, repositories, backup policies, drills, recovery."""

from __future__ import annotations

import re
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
    endpoint_url: str | None = None
    site: str | None = None


Database = Annotated[
    SqliteDatabase | ServerDatabase | RdsDatabase, Field(discriminator="engine")
]


class LocalRepository(SpecModel):
    """A backup repository in a local (or mounted) directory."""

    type: Literal["local"]
    site: str
    path: str
    hmac_key: SecretRef | None = None


class S3Repository(SpecModel):
    """A backup repository in an S3 bucket."""

    type: Literal["s3"]
    site: str
    bucket: str
    prefix: str = ""
    region: str
    endpoint_url: str | None = None
    hmac_key: SecretRef | None = None


class AwsRepository(SpecModel):
    """AWS-native snapshot stores (AMIs, RDS snapshots) in one region."""

    type: Literal["aws"]
    site: str
    region: str
    endpoint_url: str | None = None
    kms_key_id: str | None = None


Repository = Annotated[
    LocalRepository | S3Repository | AwsRepository, Field(discriminator="type")
]


class BackupSource(SpecModel):
    """What a backup policy copies: a database, a server's paths, plain paths, or a whole
    EC2 host as an AMI (`ec2_instance`, taken without a reboot unless `reboot: true`)."""

    database: str | None = None
    server: str | None = None
    paths: list[str] | None = None
    root: str | None = None
    ec2_instance: str | None = None
    reboot: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> BackupSource:
        kinds = [k for k in (self.database, self.server, self.root, self.ec2_instance)
                 if k is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a backup source needs exactly one of 'database', 'server', 'root' "
                "(plain paths under a root) or 'ec2_instance'"
            )
        if (self.database is not None or self.ec2_instance is not None) and \
                self.paths is not None:
            raise ValueError("'paths' goes with 'server' or 'root', not with 'database' or "
                             "'ec2_instance'")
        if self.reboot and self.ec2_instance is None:
            raise ValueError("'reboot' goes with 'ec2_instance'")
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
    """The scratch target a drill restores into: a database, or a directory (on the
    controller, or relative to the root of `host` when one is named); for a site drill,
    `root`: the folder (relative to each host's root) that holds the host's scratch root."""

    database: Database | None = None
    directory: str | None = None
    host: str | None = None
    root: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DrillTarget:
        if sum(x is not None for x in (self.database, self.directory, self.root)) != 1:
            raise ValueError("a drill target needs exactly one of 'database', 'directory' "
                             "or (for a site drill) 'root'")
        if self.host is not None and self.directory is None:
            raise ValueError("'host' goes with a 'directory' target")
        return self


class Expectation(SpecModel):
    """A comparison a drill's SQL result must satisfy: `>= 1`, `== 3`, `!= 0`, `< 10`."""

    op: Literal[">=", "<=", "==", "!=", ">", "<"]
    value: float | str

    def holds(self, actual: object) -> bool:
        """True when `actual` (the query's first value) satisfies the comparison.

        Numbers compare as numbers; a value that is not a number only supports `==`
        and `!=`, compared as text. A missing row (None) never satisfies anything.
        """
        if actual is None:
            return False
        if isinstance(self.value, str):
            same = str(actual) == self.value
            return same if self.op == "==" else (not same if self.op == "!=" else False)
        try:
            number = float(actual)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return {">=": number >= self.value, "<=": number <= self.value,
                "==": number == self.value, "!=": number != self.value,
                ">": number > self.value, "<": number < self.value}[self.op]

    def __str__(self) -> str:
        value = self.value
        shown = f"{value:g}" if isinstance(value, float) else value
        return f"{self.op} {shown}"


_EXPECT_RE = re.compile(r"^\s*(>=|<=|==|!=|<>|=|>|<)\s*(.+?)\s*$")
_SQL_OPS = {"=": "==", "<>": "!="}  # written as in SQL


def parse_expect(text: str) -> Expectation:
    """Parse `">= 1"` into an Expectation; raises ValueError naming the accepted forms.

    Operators: `>=`, `<=`, `==` (or SQL's `=`), `!=` (or SQL's `<>`), `>`, `<`.

    >>> str(parse_expect(">= 1"))
    '>= 1'
    """
    match = _EXPECT_RE.match(text or "")
    if not match:
        raise ValueError(f"expect {text!r} is not a comparison; write e.g. '>= 1', '= 3', "
                         "'!= 0' or '< 10'")
    op, raw = _SQL_OPS.get(match.group(1), match.group(1)), match.group(2)
    try:
        value: float | str = float(raw)
    except ValueError:
        if op not in ("==", "!="):
            raise ValueError(f"expect {text!r}: {op} needs a number") from None
        value = raw.strip("'\"")
    return Expectation(op=op, value=value)  # type: ignore[arg-type]


class DrillCheck(SpecModel):
    """One verification a drill runs on the restored data.

    `sql` + `expect`: a query on the restored database whose first value must satisfy
    the comparison. `files`: paths (files or folders) of a restored paths snapshot whose
    bytes must equal the snapshot's. `command`: an argument list (no shell) run in the
    restored directory that must exit 0.
    """

    sql: str | None = None
    expect: str | None = None
    files: list[str] | None = None
    command: list[str] | None = None
    timeout: Duration = Field(default=timedelta(minutes=5),
                              description="How long a `command` check may run.")

    @model_validator(mode="after")
    def _one_check(self) -> DrillCheck:
        kinds = [k for k in (self.sql, self.files, self.command) if k is not None]
        if len(kinds) != 1:
            raise ValueError("a drill check needs exactly one of 'sql', 'files' or 'command'")
        if self.sql is not None and self.expect is None:
            raise ValueError("an 'sql' check needs 'expect', e.g. expect: '>= 1'")
        if self.expect is not None:
            if self.sql is None:
                raise ValueError("'expect' goes with 'sql'")
            parse_expect(self.expect)
        if self.command is not None and not self.command:
            raise ValueError("'command' needs at least the program, e.g. [bin/check.sh]")
        if self.files is not None and not self.files:
            raise ValueError("'files' needs at least one path")
        return self

    @property
    def kind(self) -> str:
        """`sql`, `files` or `command`."""
        return "sql" if self.sql is not None else ("files" if self.files is not None
                                                   else "command")

    def describe(self) -> str:
        """A one-line description for plans and reports."""
        if self.sql is not None:
            return f"sql {self.sql!r} {self.expect}"
        if self.files is not None:
            return f"files {', '.join(self.files)} match the snapshot"
        return f"command {' '.join(self.command or [])} exits 0"


class Drill(SpecModel):
    """A scheduled restore test of a backup series, measured against an RTO.

    `from` is the repository to restore from (default: the policy's own); `pick` chooses
    the newest snapshot there or a random one (within `window`, chosen from the plan id so
    the plan names it). An `rto` of 0s always fails: every restore takes some time. Into
    an `engine: rds` database (from a `type: aws` repository in the same region) the drill
    restores a new scratch instance, checks it is available with the snapshot's engine and
    storage, and deletes it; `sql` checks there need a reachable endpoint and fail as "not
    reachable".

    A site drill (`site: dr`, `into: {root: PATH}`, no `backup`) rehearses `recover --site`
    end to end into scratch roots on that site's hosts and scratch databases beside the
    mapped ones (see engine.spec.scratch_view), health-checks every server, runs the `sql`
    checks on every restored database, measures the whole rehearsal against `rto` and
    tears it all down.
    """

    backup: str | None = None
    site: str | None = None
    from_: str | None = Field(default=None, alias="from")
    every: Duration
    pick: Literal["newest", "random"] = "newest"
    window: Duration | None = None
    into: DrillTarget
    verify: list[DrillCheck] = Field(default_factory=list)
    rto: Duration = timedelta(minutes=15)

    @model_validator(mode="after")
    def _checks_fit_target(self) -> Drill:
        kinds = {check.kind for check in self.verify}
        if self.site is not None:
            return self._site_drill(kinds)
        if self.backup is None:
            raise ValueError("a drill needs 'backup' (the policy it restores), or 'site' for a "
                             "site drill")
        if self.into.root is not None:
            raise ValueError("'into: {root: ...}' is for site drills (site: dr)")
        if self.into.database is not None and kinds & {"files", "command"}:
            raise ValueError("'files' and 'command' checks need a restored directory "
                             "(into: {directory: ...}); use 'sql' checks for a database")
        if self.into.directory is not None and "sql" in kinds:
            raise ValueError("'sql' checks need a restored database (into: {database: ...})")
        if self.window is not None and self.pick != "random":
            raise ValueError("'window' goes with 'pick: random'")
        return self

    def _site_drill(self, kinds: set[str]) -> Drill:
        if self.backup is not None or self.from_ is not None:
            raise ValueError("a site drill rehearses the whole recovery of its site: no "
                             "'backup' or 'from' (it restores every series the recovery does)")
        if self.into.root is None:
            raise ValueError("a site drill needs 'into: {root: PATH}', the folder on each host "
                             "of the site that holds its scratch root")
        if kinds - {"sql"}:
            raise ValueError("a site drill runs 'sql' checks on every restored database (the "
                             "servers get their own health checks)")
        if self.pick != "newest" or self.window is not None:
            raise ValueError("a site drill restores the newest snapshots, as a recovery does")
        return self


class RecoverMapping(SpecModel):
    """Which hosts and databases take over at a site when another site is lost."""

    hosts: dict[str, str] = Field(default_factory=dict)
    databases: dict[str, str] = Field(default_factory=dict)
    repositories: list[str] | None = None
    failback: bool = False
    """The site being left still runs (a way back written by `recover --write-spec`): the
    recovery first takes a final backup there of every series it restores and copies it
    here, and stops the servers there once the rebuilt ones pass their health check."""
