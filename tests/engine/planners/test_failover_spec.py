"""The spec edits after a recovery at dr, data in and data out: servers on their new
hosts, backups of the replacements kept at dr copying to the lost site, the failback."""

from __future__ import annotations

from pathlib import Path

from engine.planners.failover_spec import failover_changes
from engine.planners.recover import recovery_scope
from engine.spec.rewrite import rewrite
from tests.engine.planners.test_recover_planner import SPEC, spec


def test_the_edits_declare_the_recovered_placement_and_the_way_back() -> None:
    loaded = spec()
    changes = failover_changes(loaded, recovery_scope(loaded, "dr"))
    assert list(changes.files) == ["t.yaml"]
    edits = {e.path: e.value for e in changes.files["t.yaml"]}
    assert edits == {
        ("servers", "gw", "host"): "b", ("servers", "plain", "host"): "b",
        ("backups", "db", "source", "database"): "db_dr",
        ("backups", "db", "repository"): "dv", ("backups", "db", "copies"): ["pv"],
        ("backups", "gw-runtime", "repository"): "dv",
        ("backups", "gw-runtime", "copies"): ["pv"],
        ("recover", "primary"): {"hosts": {"b": "a"}, "databases": {"db_dr": "db"},
                                 "repositories": ["pv"], "failback": True}}
    assert "servers.gw runs on b (was a)" in changes.described
    assert changes.notes == []


def test_applying_them_twice_brings_the_spec_back() -> None:
    """Failover then failback: every line as it was (a server that always ran at dr would
    move too: the failback mapping takes over whole hosts)."""
    from engine.spec.loader import LoadedSpec
    from engine.spec.parse import SourceFile, parse_environment

    text = SPEC.replace("  stays: {host: b, product: wso2am-4.2.0, home: opt/stays}\n", "")
    loaded = LoadedSpec(parse_environment([SourceFile("t.yaml", text)]), Path("/spec"),
                        ("t.yaml",), "d")
    moved = rewrite(text, failover_changes(loaded, recovery_scope(loaded, "dr")).files["t.yaml"])
    again = LoadedSpec(parse_environment([SourceFile("t.yaml", moved)]), loaded.directory,
                       ("t.yaml",), "d")
    back = rewrite(moved, failover_changes(again, recovery_scope(again, "primary")).files[
        "t.yaml"])
    assert back.split("recover:")[0] == text.split("recover:")[0]
    assert "  dr:\n    hosts: {a: b}\n    databases: {db: db_dr}\n    repositories: [dv]\n" \
        in back


def test_a_many_to_one_mapping_gets_no_failback() -> None:
    from engine.spec.loader import LoadedSpec
    from engine.spec.parse import SourceFile, parse_environment

    text = SPEC.replace("  b: {site: dr, root: /d}\n",
                        "  b: {site: dr, root: /d}\n  c: {site: primary, root: /c}\n").replace(
        "hosts: {a: b}", "hosts: {a: b, c: b}")
    loaded = LoadedSpec(parse_environment([SourceFile("t.yaml", text)]), spec().directory,
                        ("t.yaml",), "d")
    changes = failover_changes(loaded, recovery_scope(loaded, "dr"))
    assert ("recover", "primary") not in {e.path for e in changes.files["t.yaml"]}
    assert any("several hosts" in n for n in changes.notes)


def test_a_launched_ec2_host_becomes_the_instance_its_launch_recorded() -> None:
    from tests.engine.planners.test_recover_ec2_planner import SPEC as EC2
    from tests.engine.planners.test_recover_ec2_planner import spec as ec2_spec

    ssh = EC2.replace("    site: dr\n    root: /d\n", "    site: dr\n    root: /d\n"
                      "    transport: ssh\n")
    loaded = ec2_spec(ssh)
    recorded = {"b": {"address": "10.20.1.7", "instance": {"instance_id": "i-0new",
                                                            "private_ip": "10.20.1.7"}}}
    changes = failover_changes(loaded, recovery_scope(loaded, "dr"), recorded)
    edits = {e.path: e.value for e in changes.files["t.yaml"]}
    assert edits[("hosts", "b", "aws")] == {"region": "eu-central-1", "instance_id": "i-0new",
                                            "tags": {"Name": "gw-dr"}}
    assert edits[("hosts", "b", "address")] == "10.20.1.7"
    assert edits[("backups", "a-image", "source", "ec2_instance")] == "b"
    assert edits[("backups", "a-image", "repository")] == "west"
    moved = rewrite(ssh, changes.files["t.yaml"])
    assert "    aws: {region: eu-central-1, tags: {Name: gw-dr}, instance_id: i-0new}\n" \
           "    address: 10.20.1.7\n" in moved
    host = ec2_spec(moved).env.hosts["b"]  # the rewritten spec loads: an existing instance
    assert host.aws is not None and not host.aws.launched and host.address == "10.20.1.7"
    # nothing recorded (the launch never ran): left alone, and said so
    left = failover_changes(loaded, recovery_scope(loaded, "dr"), {})
    assert ("hosts", "b", "aws") not in {e.path for e in left.files["t.yaml"]}
    assert left.notes == ["hosts.b: the state records no instance launched for it; its aws "
                          "block is left as it is"]
