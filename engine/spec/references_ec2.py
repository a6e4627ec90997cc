"""Cross-reference checks of EC2 hosts and AMI backups (pure).

An `ec2_instance` source names a host that declares `aws`; its AMIs go to `type: aws`
repositories, the first in the instance's region and each copy in another region. A
recovery mapping onto a host that recover launches needs the lost host to be backed up
as AMIs.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.spec.data import AwsRepository
from engine.spec.models import Environment

Loc = tuple[str | int, ...]


def region_problems(env: Environment, name: str, repository: str, copies: list[str], *,
                    source: str, things: str, region: str) -> Iterator[tuple[Loc, str]]:
    """Problems of a policy whose snapshots AWS keeps (RDS snapshots, AMIs of `source`):
    every repository is `type: aws`, the policy's own in the source's `region`, each copy
    in a region of its own."""
    targets = [(("backups", name, "repository"), repository)] + [
        (("backups", name, "copies", i), copy) for i, copy in enumerate(copies)]
    regions: dict[str, str] = {}
    for loc, repo_name in targets:
        repo = env.repositories.get(repo_name)
        if repo is None:
            continue  # reported as unknown elsewhere
        if not isinstance(repo, AwsRepository):
            yield loc, (f"backups of {source} are {things}; repository {repo_name!r} is "
                        f"{repo.type}, use a 'type: aws' repository")
        elif loc[2] == "repository" and repo.region != region:
            yield loc, (f"repository {repo_name!r} is in region {repo.region} but {source} is "
                        f"in {region}; {things} are taken in the source's region")
        elif repo.region in regions:
            yield loc, (f"repository {repo_name!r} is in region {repo.region} like "
                        f"{regions[repo.region]!r}; copies of {things} go to other regions")
        else:
            regions[repo.region] = repo_name


def ec2_problems(env: Environment) -> Iterator[tuple[Loc, str]]:
    """(location, message) for every EC2 host or AMI policy that cannot work."""
    for name, policy in env.backups.items():
        host_name = policy.source.ec2_instance
        if host_name is None:
            continue
        host = env.hosts.get(host_name)
        if host is None:
            choices = ", ".join(sorted(env.hosts)) or "none declared"
            yield (("backups", name, "source", "ec2_instance"),
                   f"unknown host {host_name!r} (declared: {choices})")
            continue
        if host.aws is None:
            yield (("backups", name, "source", "ec2_instance"),
                   f"host {host_name!r} declares no 'aws' instance; AMIs are taken of EC2 "
                   "hosts only")
            continue
        yield from region_problems(env, name, policy.repository, policy.copies,
                                   source=f"host {host_name!r}", things="AMIs",
                                   region=host.aws.region)
    for name, drill in env.drills.items():
        policy = env.backups.get(drill.backup)
        if policy is not None and policy.source.ec2_instance is not None:
            yield (("drills", name, "backup"),
                   f"backup {drill.backup!r} holds AMIs; a drill restores databases and "
                   "directories — rehearse AMIs with a site drill or 'recover'")
    imaged = {p.source.ec2_instance for p in env.backups.values()}
    for site, mapping in env.recover.items():
        for lost, new in mapping.hosts.items():
            target = env.hosts.get(new)
            if target is None or target.aws is None or not target.aws.launched:
                continue
            if lost not in imaged and target.aws.image is None:
                yield (("recover", site, "hosts", lost),
                       f"host {new!r} is launched by recover from an AMI of {lost!r}, but no "
                       f"backup policy has source ec2_instance: {lost}; add one or set "
                       f"hosts.{new}.aws.image")
