"""Recovery of EC2 hosts, data in and data out: a mapped host that recover launches gets an
`ec2.launch` from the chosen AMI with the declared type, subnet, groups and tags; every
server rebuilt onto it waits for the launch; an AMI in another region, or none at all, is
one clear error; the spec refuses EC2 declarations that cannot work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.contracts.facts import SnapshotInfo
from engine.planners.recover import RecoverError, plan_recover, recovery_scope
from engine.spec.errors import SpecError
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from state.document import new_document

SPEC = """\
environment: t
sites: {primary: {}, dr: {}}
hosts:
  a: {site: primary, root: /p, aws: {region: eu-west-1, instance_id: i-0abc}}
  b:
    site: dr
    root: /d
    aws: {region: eu-central-1, instance_type: m5.large, subnet_id: subnet-1,
          security_group_ids: [sg-1], key_name: ops, iam_instance_profile: gw,
          tags: {Name: gw-dr}}
products: {wso2am-4.2.0: {pack: /w/p.zip}}
servers:
  gw: {host: a, product: wso2am-4.2.0, home: opt/gw,
       config: {repository/conf/x.toml: {content: "y = 2\\n"}}}
repositories:
  east: {type: aws, site: primary, region: eu-west-1}
  west: {type: aws, site: dr, region: eu-central-1}
backups:
  a-image: {source: {ec2_instance: a}, every: 24h, repository: east, copies: [west]}
recover:
  dr: {hosts: {a: b}}
"""
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def spec(text: str = SPEC) -> LoadedSpec:
    return LoadedSpec(parse_environment([SourceFile("t.yaml", text)]), Path("/spec"),
                      ("t.yaml",), "d")


def ami(repo: str = "west") -> SnapshotInfo:
    return SnapshotInfo(repository=repo, series="a-image", id="s1", kind="host",
                        address="host.a", engine="ec2-image",
                        created=NOW - timedelta(hours=3), facts={"image_id": "ami-0new"})


def plan(chosen: dict[str, SnapshotInfo], text: str = SPEC):
    loaded = spec(text)
    return plan_recover(loaded, new_document("t"), recovery_scope(loaded, "dr"), chosen,
                        pack_levels={"wso2am-4.2.0": -1}, digests={}, plan_id="p1", now=NOW)


def test_the_replacement_is_launched_from_the_chosen_ami_before_its_servers() -> None:
    planned = plan({"a-image": ami()})
    actions = {a.id: a for a in planned.plan.actions}
    launch = actions["host.b/launch"]
    assert launch.type == "ec2.launch"
    assert launch.params == {
        "host": "b", "replaces": "a", "region": "eu-central-1", "instance_type": "m5.large",
        "subnet_id": "subnet-1", "security_group_ids": ["sg-1"], "key_name": "ops",
        "iam_instance_profile": "gw", "tags": {"Name": "gw-dr", "drydock:replaces": "a"},
        "repository": "west", "series": "a-image", "snapshot_id": "s1",
        "image_id": "ami-0new"}
    assert "host.b/launch" in actions["server.gw/install"].depends_on
    assert [p.target for p in planned.points] == ["host.b"]
    change = next(c for c in planned.plan.changes if c.address == "host.b")
    assert change.action == "create" and "ami-0new" in change.reason


def test_an_ami_in_another_region_or_none_is_one_clear_error() -> None:
    with pytest.raises(RecoverError, match="is launched in eu-central-1; copy the AMIs"):
        plan({"a-image": ami("east")}, SPEC.replace("site: primary, region: eu-west-1}",
                                                     "site: dr, region: eu-west-1}"))
    with pytest.raises(RecoverError, match="no verified AMI of a-image"):
        plan({})
    pinned = plan({}, SPEC.replace("tags: {Name: gw-dr}}", "tags: {Name: gw-dr}, "
                                                           "image: ami-0pinned}"))
    launch = next(a for a in pinned.plan.actions if a.type == "ec2.launch")
    assert launch.params["image_id"] == "ami-0pinned" and "snapshot_id" not in launch.params


def issues(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_environment([SourceFile("t.yaml", text)])
    return [str(i) for i in info.value.issues]


def test_the_spec_refuses_ec2_declarations_that_cannot_work() -> None:
    both = SPEC.replace("instance_id: i-0abc}", "instance_id: i-0abc, instance_type: t3.micro}")
    assert any("not both" in i for i in issues(both))
    neither = SPEC.replace("instance_type: m5.large, subnet_id: subnet-1,", "")
    assert any("needs 'instance_id'" in i for i in issues(neither))
    local_repo = SPEC.replace("east: {type: aws, site: primary, region: eu-west-1}",
                              "east: {type: local, site: primary, path: /b}")
    assert any("backups of host 'a' are AMIs; repository 'east' is local" in i
               for i in issues(local_repo))
    wrong_region = SPEC.replace("east: {type: aws, site: primary, region: eu-west-1}",
                                "east: {type: aws, site: primary, region: us-east-1}")
    assert any("but host 'a' is in eu-west-1; AMIs are taken in the source's region" in i
               for i in issues(wrong_region))
    no_aws = SPEC.replace(", aws: {region: eu-west-1, instance_id: i-0abc}}", "}")
    assert any("declares no 'aws' instance" in i for i in issues(no_aws))
    no_policy = SPEC.replace("backups:\n  a-image: {source: {ec2_instance: a}, every: 24h, "
                             "repository: east, copies: [west]}\n", "")
    assert any("no backup policy has source ec2_instance: a" in i for i in issues(no_policy))
    drill = SPEC + ("drills:\n  d: {backup: a-image, every: 30d, into: {directory: /s}}\n")
    assert any("holds AMIs; a drill restores databases" in i for i in issues(drill))
    reboot = SPEC.replace("source: {ec2_instance: a}", "source: {database: x, reboot: true}")
    assert any("'reboot' goes with 'ec2_instance'" in i for i in issues(reboot))
