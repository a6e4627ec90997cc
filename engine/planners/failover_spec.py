"""The spec edits that make a recovered placement the declared one (pure).

After `recover --site S` rebuilt the estate, `recover --write-spec` rewrites the spec so
the next plan manages what now runs, and a later `recover --site <lost>` can plan the
way back:
- every recovered server's `host` becomes the host that took it over, and an EC2 host
  recover launched declares the instance it is now (`engine.planners.failover_ec2_spec`);
- a backup policy of a lost database backs up its replacement instead, and one imaging a
  lost EC2 host images the host that took over;
- a policy kept in a lost site's repository moves to a surviving one (its copy at S, or
  S's first repository) and copies to the lost one, so when that site is back it gets
  the data that changed meanwhile;
- `recover.<lost site>` is the inverse mapping (taking-over host → lost host, replacement
  → lost database, from the lost site's repositories) with `failback: true`: the way
  back, which takes a final backup here first and stops the servers here at its end
  (written after a failback, the mapping is a disaster's again, without it).
Edits are grouped by the spec file that holds each key, for `engine.spec.rewrite`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.planners.failover_ec2_spec import launched_host_edits
from engine.planners.recover import RecoveryScope
from engine.spec.data import AwsRepository
from engine.spec.loader import LoadedSpec
from engine.spec.rewrite import YamlEdit


@dataclass(frozen=True)
class SpecChanges:
    """Per spec file, the edits to make; what each does in words; what was left alone."""

    files: dict[str, list[YamlEdit]] = field(default_factory=dict)
    described: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Collect:
    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.out = SpecChanges()

    def set(self, path: tuple[str, ...], value: object, said: str) -> None:
        self.out.files.setdefault(self.spec.where(path).file, []).append(YamlEdit(path, value))
        self.out.described.append(said)


def _lost_sites(spec: LoadedSpec, scope: RecoveryScope) -> set[str]:
    env = spec.env
    mapping = env.recover[scope.site]
    sites = {env.hosts[h].site for h in mapping.hosts if h in env.hosts}
    sites |= {getattr(env.databases.get(d), "site", None) for d in mapping.databases} - {None}
    return sites - {scope.site}  # type: ignore[operator]


def _surviving(spec: LoadedSpec, scope: RecoveryScope, lost_repo: str,
               candidates: list[str]) -> str | None:
    """The repository at the recovery site that takes over from `lost_repo`: of the same
    kind (AWS snapshot store or not), one of the policy's copies first."""
    repos = spec.env.repositories
    aws = isinstance(repos.get(lost_repo), AwsRepository)
    for name in [*candidates, *scope.repositories]:
        repo = repos.get(name)
        if repo is not None and repo.site == scope.site and isinstance(repo, AwsRepository) == aws:
            return name
    return None


def _backups(c: _Collect, scope: RecoveryScope, lost: set[str]) -> set[str]:
    """Edit the backup policies; returns the lost repositories policies moved away from."""
    env = c.spec.env
    mapping = env.recover[scope.site]
    moved: set[str] = set()
    for name, policy in env.backups.items():
        src = policy.source
        if src.database in mapping.databases:
            new_db = mapping.databases[src.database]
            c.set(("backups", name, "source", "database"), new_db,
                  f"backups.{name} backs up database {new_db} (was {src.database})")
        if src.ec2_instance in mapping.hosts:
            new_host = mapping.hosts[src.ec2_instance]
            c.set(("backups", name, "source", "ec2_instance"), new_host,
                  f"backups.{name} images host {new_host} (was {src.ec2_instance})")
        home = env.repositories.get(policy.repository)
        if home is None or home.site not in lost:
            continue
        new = _surviving(c.spec, scope, policy.repository, list(policy.copies))
        if new is None:
            c.out.notes.append(f"backups.{name}: no repository at site {scope.site} can take "
                               f"over from {policy.repository}; left as it is")
            continue
        copies = [policy.repository, *(x for x in policy.copies if x not in (new,
                                                                          policy.repository))]
        c.set(("backups", name, "repository"), new,
              f"backups.{name} is kept in {new} (was {policy.repository})")
        c.set(("backups", name, "copies"), copies,
              f"backups.{name} copies to {', '.join(copies)}")
        moved.add(policy.repository)
    return moved


def _inverse(c: _Collect, scope: RecoveryScope, lost: set[str], moved: set[str]) -> None:
    env = c.spec.env
    mapping = env.recover[scope.site]
    if len(lost) != 1:
        c.out.notes.append("no failback mapping written: the recovery took over from "
                           f"{len(lost)} sites ({', '.join(sorted(lost)) or 'none'})")
        return
    site = lost.pop()
    hosts = {new: old for old, new in mapping.hosts.items()}
    dbs = {new: old for old, new in mapping.databases.items()}
    if len(hosts) != len(mapping.hosts) or len(dbs) != len(mapping.databases):
        c.out.notes.append(f"no failback mapping written: recover.{scope.site} maps several "
                           "hosts or databases onto one, so the way back is not one mapping")
        return
    repos = sorted(moved) or sorted(n for n, r in env.repositories.items() if r.site == site)
    back: dict[str, object] = {"hosts": hosts, "databases": dbs, "repositories": repos}
    if not mapping.failback:  # the way back leaves this site running: see recover_failback
        back["failback"] = True
    c.set(("recover", site), back,
          f"recover.{site} plans the failback: hosts "
          f"{', '.join(f'{a} → {b}' for a, b in hosts.items()) or 'none'}, databases "
          f"{', '.join(f'{a} → {b}' for a, b in dbs.items()) or 'none'}, from "
          f"{', '.join(repos) or 'the site'}")


def failover_changes(spec: LoadedSpec, scope: RecoveryScope,
                     hosts_recorded: Mapping[str, Mapping[str, Any]] | None = None
                     ) -> SpecChanges:
    """The edits that declare the placement a recovery of `scope` built (e.g.
    servers.gw-1.host node-a → node-b, backups kept in dr-vault copying to primary-vault,
    recover.primary added); `notes` name what it could not declare. `hosts_recorded` is
    per host name the state's `host.<name>` data (what launched EC2 instances recorded)."""
    c = _Collect(spec)
    launched_host_edits(spec, spec.env.recover[scope.site].hosts, hosts_recorded or {},
                        c.set, c.out.notes)
    for item in scope.servers:
        c.set(("servers", item.server, "host"), item.new_host,
              f"servers.{item.server} runs on {item.new_host} (was {item.lost_host})")
    lost = _lost_sites(spec, scope)
    moved = _backups(c, scope, lost)
    _inverse(c, scope, set(lost), moved)
    return c.out
