"""`backups check` on repositories kept in AWS, through the real CLI against a moto server
over HTTP: a `type: aws` repository's RDS snapshots are counted and reported healthy in
both regions, its AMIs with their EBS snapshots, and an S3 repository is checked object by
object, a removed part found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration import test_rds_backups as rds
from tests.integration import test_s3_backups as on_s3

instance = rds.instance  # the fixtures those tests build their worlds with
s3 = on_s3.s3

def test_an_aws_repositorys_rds_snapshots_are_checked_as_aws_reports_them(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], instance: str) -> None:
    env, series = rds.setup(tmp_path, moto_endpoint, instance)
    env.run("apply", ".", "--auto-approve", env={**aws, **rds.at(0)}, check=0)
    proc = env.run("backups", "check", "--env", ".", "--format", "json",
                   env={**aws, **rds.at(0)}, check=0)
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    mine = {r["repository"]: r for r in report["repositories"]}
    assert set(mine) == {"rds-primary", "rds-dr"}
    for found in mine.values():  # the moto server is shared: at least this test's one
        assert found["snapshots"] >= 1 and found["problems"] == []
    text = env.run("backups", "check", "--env", ".", "--repository", "rds-primary",
                   "--read-data", env={**aws, **rds.at(0)}, check=0).stdout
    assert text.startswith("repository rds-primary: ") and text.rstrip().endswith(
        "0 bytes read: no errors")

    import boto3

    client = boto3.client("rds", region_name=rds.REGION, endpoint_url=moto_endpoint)
    mine_now = [s for s in client.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
                if {"Key": "drydock:series", "Value": series} in s.get("TagList", [])]
    assert len(mine_now) == 1


def test_an_s3_repository_is_checked_and_a_removed_part_is_found(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str], s3: tuple[Any, str]) -> None:
    client, bucket = s3
    env = on_s3.setup(tmp_path, bucket, moto_endpoint, primary="local-vault", copy="s3-vault")
    env.run("apply", ".", "--auto-approve", env={**aws, **on_s3.NOW}, check=0)
    healthy = json.loads(env.run("backups", "check", "--env", ".", "--repository", "s3-vault",
                                 "--read-data", "--format", "json", env={**aws, **on_s3.NOW},
                                 check=0).stdout)
    assert healthy["ok"] is True
    assert healthy["repositories"][0]["snapshots"] == 1
    assert healthy["repositories"][0]["bytes_read"] > 0
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    part = next(k for k in keys if k.endswith(".zst"))
    client.delete_object(Bucket=bucket, Key=part)
    damaged = env.run("backups", "check", "--env", ".", "--repository", "s3-vault",
                      env={**aws, **on_s3.NOW}, check=1).stdout
    assert ": 1 problem(s)" in damaged and "part:" in damaged


def test_an_aws_repositorys_amis_are_checked_with_their_ebs_snapshots(
        tmp_path: Path, moto_endpoint: str, aws: dict[str, str]) -> None:
    from tests.integration import test_ec2_recovery as ec2

    env, series = ec2.setup(tmp_path, moto_endpoint)
    env.run("apply", ".", "--auto-approve", "--allow-dirty", env={**aws, **ec2.at(0)}, check=0)
    report = json.loads(env.run("backups", "check", "--env", ".", "--repository", "ec2-east",
                                "--format", "json", env={**aws, **ec2.at(0)}, check=0).stdout)
    assert report["ok"] is True and report["repositories"][0]["snapshots"] >= 1
    [image] = ec2.images(moto_endpoint, ec2.REGION, series).values()
    assert ec2.ebs_snapshots(image)  # each one was asked for, and is there
    # (A gone EBS snapshot cannot be caused here: EC2, and moto, refuse to delete one an
    # AMI uses, and a re-registered image gets new ones.)
