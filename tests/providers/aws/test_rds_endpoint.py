"""Which RDS endpoint a database's observation uses."""

from __future__ import annotations

from pathlib import Path

from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment
from providers.aws.rds_instances import rds_endpoint

SPEC = """\
environment: t
sites: {a: {}}
repositories:
  r: {type: aws, site: a, region: eu-west-1, endpoint_url: "http://127.0.0.1:1"}
"""


def spec() -> LoadedSpec:
    env = parse_environment([SourceFile("t.yaml", SPEC)])
    return LoadedSpec(env, Path("/spec"), ("t.yaml",), "d")


def test_the_databases_own_endpoint_wins() -> None:
    where = rds_endpoint(spec(), "eu-west-1", "http://127.0.0.1:2")
    assert where.endpoint_url == "http://127.0.0.1:2"


def test_else_an_aws_repository_in_the_same_region() -> None:
    assert rds_endpoint(spec(), "eu-west-1").endpoint_url == "http://127.0.0.1:1"
    assert rds_endpoint(spec(), "us-east-1").endpoint_url is None
