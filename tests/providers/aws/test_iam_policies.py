"""The IAM policies in docs/aws.md are valid JSON policy documents a user can paste, and each
allows every AWS API call its feature's code makes: the calls are read from the source
(tests.helpers.aws_calls), so a new call without a policy update fails here."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers.aws_calls import ROOT, ApiCall, all_calls, aws_files, operations

DOC = ROOT / "docs" / "aws.md"
FEATURES = {
    "providers/repositories/s3.py": "S3 repository",
    "state/s3.py": "S3 state",
    "providers/aws/rds.py": "RDS snapshots",
    "providers/aws/rds_instances.py": "RDS snapshots",
    "providers/aws/rds_restore.py": "RDS snapshots",
    "providers/aws/ec2_images.py": "EC2 images",
    "providers/aws/ec2_instances.py": "Recovery launches",
}
ALSO = {"Recovery launches": {"ec2:DescribeImages"}}  # it checks the AMI through AmiStore
S3_ACTIONS = {  # S3 permissions are not named after its operations
    "list_objects_v2": "s3:ListBucket", "list_multipart_uploads": "s3:ListBucketMultipartUploads",
    "get_object": "s3:GetObject", "put_object": "s3:PutObject", "delete_object": "s3:DeleteObject",
    "delete_objects": "s3:DeleteObject", "create_multipart_upload": "s3:PutObject",
    "upload_part": "s3:PutObject", "complete_multipart_upload": "s3:PutObject",
    "abort_multipart_upload": "s3:AbortMultipartUpload",
}
IMPLIED = {  # calls that also need another permission for the tags they set
    ("ec2", "create_image"): {"ec2:CreateTags"}, ("ec2", "run_instances"): {"ec2:CreateTags"},
    ("rds", "create_db_snapshot"): {"rds:AddTagsToResource"},
    ("rds", "copy_db_snapshot"): {"rds:AddTagsToResource"},
    ("rds", "restore_db_instance_from_db_snapshot"): {"rds:AddTagsToResource"},
}


def policies() -> dict[str, dict[str, Any]]:
    """Heading under '## IAM policies' -> the JSON document below it."""
    text = DOC.read_text(encoding="utf-8").split("## IAM policies", 1)[1]
    found = {}
    for match in re.finditer(r"^### (.+?)\n(.*?)```json\n(.*?)```", text, re.S | re.M):
        found[match.group(1).strip()] = json.loads(match.group(3))
    return found


def allowed(policy: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        out |= {actions} if isinstance(actions, str) else set(actions)
    return out


def needed(call: ApiCall) -> set[str]:
    if call.service == "s3":
        action = {S3_ACTIONS[call.operation]}
    else:
        action = {f"{call.service}:{operations(call.service)[call.operation]}"}
    return action | IMPLIED.get((call.service, call.operation), set())


def test_every_feature_has_a_valid_policy_document() -> None:
    found = policies()
    assert set(found) == set(FEATURES.values())
    for name, policy in found.items():
        assert policy["Version"] == "2012-10-17", name
        assert policy["Statement"], name
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow", name
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, name
            assert statement["Resource"], name
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert re.fullmatch(r"[a-z0-9]+:[A-Za-z*]+", action), (name, action)


def test_every_file_that_calls_aws_belongs_to_a_feature() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in aws_files()}
    assert files == set(FEATURES)


@pytest.mark.parametrize("feature", sorted(set(FEATURES.values())))
def test_the_policy_allows_every_call_its_code_makes(feature: str) -> None:
    policy = allowed(policies()[feature])
    calls = [c for c in all_calls() if FEATURES[c.path] == feature]
    assert calls
    missing = sorted({(f"{c.path}:{c.line}", a) for c in calls for a in needed(c)
                      if a not in policy and f"{a.split(':')[0]}:*" not in policy})
    assert missing == []
    assert ALSO.get(feature, set()) <= policy
