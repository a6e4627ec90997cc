"""Cross-reference checks of a parsed environment (pure): every name used must exist."""

from __future__ import annotations

from collections.abc import Iterator

from engine.spec.data import AwsRepository, RdsDatabase
from engine.spec.models import Environment
from engine.spec.references_ec2 import ec2_problems, region_problems
from engine.spec.references_site import site_drill_problems

Loc = tuple[str | int, ...]


def check_references(
    env: Environment, declared: dict[str, set[str]] | None = None
) -> list[tuple[Loc, str]]:
    """Return (location, message) for every reference to an unknown or wrong resource.

    Locations are key paths into the YAML document (e.g. ``("servers", "gw-1", "host")``)
    so the loader can point at the file, line and column. `declared` lists every name
    written in the files per section, including resources dropped as invalid: a reference
    to one of those is not reported again.
    """
    names = declared or {}
    found = []
    for loc, message in _problems(env):
        ref = _referenced(message)
        if ref is not None and any(ref in n for n in names.values()) and \
                message.startswith("unknown "):
            continue
        found.append((loc, message))
    return found


def _referenced(message: str) -> str | None:
    if not message.startswith("unknown ") or "'" not in message:
        return None
    return message.split("'")[1]


def _missing(kind: str, name: str, known: dict[str, object]) -> str:
    choices = ", ".join(sorted(known)) or "none declared"
    return f"unknown {kind} {name!r} (declared: {choices})"


def _problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    for name, host in env.hosts.items():
        if host.site not in env.sites:
            yield ("hosts", name, "site"), _missing("site", host.site, env.sites)
    for name, server in env.servers.items():
        if server.host not in env.hosts:
            yield ("servers", name, "host"), _missing("host", server.host, env.hosts)
        if server.product not in env.products:
            yield ("servers", name, "product"), _missing("product", server.product, env.products)
        if server.update_level is not None and server.update_level > 0:
            product = env.products.get(server.product)
            if product is not None and product.updates is None:
                yield (("servers", name, "update_level"),
                       f"product {server.product!r} declares no 'updates' folder")
        if server.patches:
            product = env.products.get(server.product)
            if product is not None and product.patches is None:
                yield (("servers", name, "patches"),
                       f"product {server.product!r} declares no 'patches' folder")
    for name, repo in env.repositories.items():
        if repo.site not in env.sites:
            yield ("repositories", name, "site"), _missing("site", repo.site, env.sites)
    for name, db in env.databases.items():
        if db.site is not None and db.site not in env.sites:
            yield ("databases", name, "site"), _missing("site", db.site, env.sites)
    yield from _backup_problems(env)
    yield from _rds_problems(env)
    yield from ec2_problems(env)
    yield from _drill_problems(env)
    yield from _recover_problems(env)


def _backup_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    for name, policy in env.backups.items():
        src = policy.source
        if src.database is not None and src.database not in env.databases:
            yield (("backups", name, "source", "database"),
                   _missing("database", src.database, env.databases))
        if src.server is not None and src.server not in env.servers:
            yield (("backups", name, "source", "server"),
                   _missing("server", src.server, env.servers))
        if policy.repository not in env.repositories:
            yield (("backups", name, "repository"),
                   _missing("repository", policy.repository, env.repositories))
        for i, copy in enumerate(policy.copies):
            if copy not in env.repositories:
                yield ("backups", name, "copies", i), _missing("repository", copy, env.repositories)
            elif copy == policy.repository:
                yield (("backups", name, "copies", i),
                       f"copy target {copy!r} is the policy's own repository")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(policy.timezone)
        except (KeyError, ValueError, OSError):
            yield ("backups", name, "timezone"), f"unknown timezone {policy.timezone!r}"


def _rds_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    """RDS sources go to aws repositories, the first in the instance's region and copies in
    other regions; aws repositories hold nothing but RDS snapshots and AMIs."""
    for name, policy in env.backups.items():
        db = env.databases.get(policy.source.database or "")
        if isinstance(db, RdsDatabase):
            yield from region_problems(env, name, policy.repository, policy.copies,
                                       source=f"RDS database {policy.source.database!r}",
                                       things="RDS snapshots", region=db.region)
            continue
        if policy.source.ec2_instance is not None:
            continue  # AMIs: see references_ec2
        targets = [(("backups", name, "repository"), policy.repository)] + [
            (("backups", name, "copies", i), copy) for i, copy in enumerate(policy.copies)]
        for loc, repo_name in targets:
            if isinstance(env.repositories.get(repo_name), AwsRepository):
                yield loc, (f"repository {repo_name!r} (type: aws) holds RDS snapshots and "
                            "AMIs only; use a local or s3 repository for this backup")


def _drill_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    for name, drill in env.drills.items():
        if drill.into.host is not None and drill.into.host not in env.hosts:
            yield ("drills", name, "into", "host"), _missing("host", drill.into.host, env.hosts)
        if drill.site is not None:
            yield from site_drill_problems(env, name, drill)
            continue
        policy = env.backups.get(drill.backup)  # type: ignore[arg-type]
        if policy is None:
            yield ("drills", name, "backup"), _missing("backup", drill.backup, env.backups)
            continue
        if drill.from_ is not None:
            allowed = [policy.repository, *policy.copies]
            if drill.from_ not in allowed:
                yield (("drills", name, "from"),
                       f"repository {drill.from_!r} holds no copy of backup {drill.backup!r} "
                       f"(it is kept in: {', '.join(allowed)})")


def _recover_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    for site, mapping in env.recover.items():
        if site not in env.sites:
            yield ("recover", site), _missing("site", site, env.sites)
        for lost, new in mapping.hosts.items():
            if lost not in env.hosts:
                yield ("recover", site, "hosts", lost), _missing("host", lost, env.hosts)
            if new not in env.hosts:
                yield ("recover", site, "hosts", lost), _missing("host", new, env.hosts)
            elif env.hosts[new].site != site:
                yield (("recover", site, "hosts", lost),
                       f"host {new!r} is at site {env.hosts[new].site!r}, not {site!r}")
        for lost, new in mapping.databases.items():
            if lost not in env.databases:
                yield (("recover", site, "databases", lost),
                       _missing("database", lost, env.databases))
            if new not in env.databases:
                yield (("recover", site, "databases", lost),
                       _missing("database", new, env.databases))
        for i, repo in enumerate(mapping.repositories or []):
            if repo not in env.repositories:
                yield (("recover", site, "repositories", i),
                       _missing("repository", repo, env.repositories))
