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
        targets = [(("backups", name, "repository"), policy.repository)] + [
            (("backups", name, "copies", i), copy) for i, copy in enumerate(policy.copies)]
        regions: dict[str, str] = {}
        for loc, repo_name in targets:
            repo = env.repositories.get(repo_name)
            if repo is None:
                continue  # reported as unknown elsewhere
            if not isinstance(repo, AwsRepository):
                yield loc, (f"AMIs of host {host_name!r} go to a 'type: aws' repository; "
                            f"{repo_name!r} is {repo.type}")
            elif loc[2] == "repository" and repo.region != host.aws.region:
                yield loc, (f"repository {repo_name!r} is in region {repo.region} but host "
                            f"{host_name!r} is in {host.aws.region}; AMIs are made in the "
                            "instance's region")
            elif repo.region in regions:
                yield loc, (f"repository {repo_name!r} is in region {repo.region} like "
                            f"{regions[repo.region]!r}; AMI copies go to other regions")
            else:
                regions[repo.region] = repo_name
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
