"""boto3 used the one way, everywhere: the source is inspected (tests.helpers.aws_calls) so a
new module cannot slip past. One client factory with an explicit region and botocore's
standard retry mode; AWS_ENDPOINT_URL honoured as well as a resource's endpoint_url;
paginators for every call that pages; waiters only through the bounded wait; no
credentials in the spec."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from providers.aws.clients import DEFAULT_ATTEMPTS, AwsEndpoint, endpoint_for, make_client
from tests.helpers.aws_calls import ROOT, all_calls, aws_files, can_paginate, code_files

FACTORY = ROOT / "providers" / "aws" / "clients.py"
WAITING = ROOT / "providers" / "aws" / "waiting.py"
SINGLE_ITEM = {"DBSnapshotIdentifier", "DBInstanceIdentifier"}  # one item, nothing to page


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call)]


def test_boto3_is_imported_and_clients_made_only_by_the_factory() -> None:
    importing, making = [], []
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]
                if any(n == "boto3" or n.startswith("boto3.") for n in names):
                    importing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("client", "resource") and node.args and \
                    isinstance(node.args[0], ast.Constant | ast.Name):
                making.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert {p.split(":")[0] for p in importing} == {"providers/aws/clients.py"}
    assert {p.split(":")[0] for p in making} == {"providers/aws/clients.py"}
    assert aws_files(), "no file talks to AWS: the inspection is looking in the wrong place"


def test_every_client_has_a_region_standard_retries_and_the_endpoint(
        monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    with pytest.raises(ValueError, match="explicit region"):
        make_client("ec2", AwsEndpoint(region=""))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_EC2", raising=False)
    client = make_client("ec2", AwsEndpoint(region="ap-south-1"))
    assert client.meta.region_name == "ap-south-1"
    assert client.meta.config.retries == {"mode": "standard",
                                          "total_max_attempts": DEFAULT_ATTEMPTS}
    assert client.meta.endpoint_url == "https://ec2.ap-south-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert make_client("ec2", AwsEndpoint(region="ap-south-1")).meta.endpoint_url == \
        "http://127.0.0.1:4566"
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:4567")
    assert endpoint_for("ec2", None) == "http://127.0.0.1:4567"
    assert endpoint_for("rds", None) == "http://127.0.0.1:4566"
    assert endpoint_for("ec2", "http://declared:1") == "http://declared:1"  # the spec wins


def test_aws_endpoint_url_reaches_moto_without_any_endpoint_in_the_spec(
        monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, aws_env: None) -> None:
    from providers.aws.ec2_images import AmiStore

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    assert AmiStore("images", "eu-west-1").snapshots("no-such-series") == []


def test_only_the_factory_passes_a_client_config() -> None:
    for path in code_files():
        if path == FACTORY:
            continue
        for call in _calls(path):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(
                call.func, "id", "")
            assert name != "Config", f"{path.relative_to(ROOT)}:{call.lineno} builds a Config"


def test_every_call_that_pages_goes_through_a_paginator() -> None:
    direct = [c for c in all_calls() if c.via == "call" and can_paginate(c.service, c.operation)
              and not c.keywords & SINGLE_ITEM]
    assert direct == []
    assert any(c.via == "paginator" for c in all_calls())


def test_waiters_run_only_bounded_and_every_waiter_goes_to_the_bounded_wait() -> None:
    for path in code_files():
        for call in _calls(path):
            if not isinstance(call.func, ast.Attribute):
                continue
            if call.func.attr == "wait" and any(k.arg == "WaiterConfig" for k in call.keywords):
                assert path == WAITING, f"{path.relative_to(ROOT)}:{call.lineno} waits itself"
            if call.func.attr == "get_waiter":
                assert path != WAITING
    source = ast.unparse(ast.parse(WAITING.read_text(encoding="utf-8")))
    assert "'MaxAttempts': attempts" in source
    waiters = [c for c in all_calls() if c.via == "waiter"]
    assert waiters
    for call in waiters:
        text = (ROOT / call.path).read_text(encoding="utf-8").splitlines()
        assert "wait_bounded(" in "\n".join(text[call.line - 2:call.line]), (
            f"{call.path}:{call.line}: a waiter not run by wait_bounded")


def test_the_spec_has_no_place_for_aws_credentials() -> None:
    from engine.spec.models import Environment

    schema = json.dumps(Environment.model_json_schema()).lower()
    for word in ("access_key", "secret_access", "session_token", "aws_secret"):
        assert word not in schema
