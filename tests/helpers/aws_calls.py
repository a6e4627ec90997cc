"""Read the AWS API calls the code makes, from its source (for the boto3 and IAM tests).

A file talks to one AWS service when it makes a client of it (``make_client("ec2", …)``)
or is a store of it (``service: ClassVar[str] = "rds"``). Its calls are every method
call named like an operation of that service in botocore's model, every
``get_paginator("op")`` and every ``get_waiter("name")`` (whose operation botocore's
waiter model names).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CODE = ("engine", "providers", "state", "testkit", "bench")
_SERVICE = re.compile(r'make_client\(\s*"([a-z0-9-]+)"|service: ClassVar\[str\] = "([a-z0-9-]+)"')


@dataclass(frozen=True)
class ApiCall:
    """One call of an AWS operation in the source."""

    path: str
    line: int
    service: str
    operation: str  # snake_case, as boto3 spells it
    via: str  # "call", "paginator" or "waiter"
    keywords: frozenset[str]


def code_files() -> list[Path]:
    """Every Python file of the project's own code (tests excluded)."""
    return sorted(p for top in CODE for p in (ROOT / top).rglob("*.py"))


def aws_files() -> dict[Path, str]:
    """The files that talk to AWS, and the service each talks to."""
    found = {}
    for path in code_files():
        text = path.read_text(encoding="utf-8")
        for match in _SERVICE.finditer(text):
            found[path] = match.group(1) or match.group(2)
    return found


@cache
def _client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, region_name="eu-west-1",
                                          aws_access_key_id="x", aws_secret_access_key="x")


def operations(service: str) -> dict[str, str]:
    """snake_case operation -> API name (``describe_images`` -> ``DescribeImages``)."""
    return dict(_client(service).meta.method_to_api_mapping)


def can_paginate(service: str, operation: str) -> bool:
    """True when botocore pages the operation's results."""
    return bool(_client(service).can_paginate(operation))


def waiter_operation(service: str, waiter: str) -> str:
    """The snake_case operation a boto3 waiter polls."""
    api = _client(service).get_waiter(waiter).config.operation
    return {v: k for k, v in operations(service).items()}[api]


def api_calls(path: Path, service: str) -> list[ApiCall]:
    """Every AWS operation `path` calls on `service`."""
    ops = operations(service)
    rel = path.relative_to(ROOT).as_posix()
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        keywords = frozenset(k.arg for k in node.keywords if k.arg)
        first = node.args[0] if node.args else None
        literal = first.value if isinstance(first, ast.Constant) else None
        if name == "get_paginator" and isinstance(literal, str):
            out.append(ApiCall(rel, node.lineno, service, literal, "paginator", keywords))
        elif name == "get_waiter" and isinstance(literal, str):
            out.append(ApiCall(rel, node.lineno, service, waiter_operation(service, literal),
                               "waiter", keywords))
        elif name in ops:
            out.append(ApiCall(rel, node.lineno, service, name, "call", keywords))
    return out


def all_calls() -> list[ApiCall]:
    """Every AWS call of the code base."""
    return [c for path, service in aws_files().items() for c in api_calls(path, service)]
