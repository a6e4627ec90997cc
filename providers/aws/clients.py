"""boto3 clients for the AWS providers, built on first use, and AWS errors as one line.

boto3 is imported inside the functions that need it, so nothing pays for it until an
AWS resource is touched. Credentials come from boto3's usual chain (environment, profile,
instance role), never from the spec. Every client of the code base is made by
`make_client`: an explicit region, botocore's ``standard`` retry mode, and the endpoint
a resource declares or ``AWS_ENDPOINT_URL[_<SERVICE>]`` names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

SERVICE_LABELS = {"rds": "RDS", "ec2": "EC2", "s3": "S3"}
DEFAULT_ATTEMPTS = 5


class AwsEndpoint(BaseModel):
    """Where a service of one region is reached: the region and an optional endpoint URL."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    endpoint_url: str | None = None

    def url(self, service: str) -> str:
        """The URL calls go to, for messages (the public endpoint unless one is given).

        >>> AwsEndpoint(region="eu-west-1").url("rds")
        'https://rds.eu-west-1.amazonaws.com'
        """
        return (endpoint_for(service, self.endpoint_url)
                or f"https://{service}.{self.region}.amazonaws.com")


def region_endpoint(repositories: Iterable[object], region: str,
                    declared: str | None = None) -> AwsEndpoint:
    """Where AWS of `region` is reached for a spec object without an endpoint of its own:
    its `declared` endpoint_url, else that of the first `type: aws` repository declared
    in the region (where its snapshots go), else the default (AWS_ENDPOINT_URL…)."""
    if declared:
        return AwsEndpoint(region=region, endpoint_url=declared)
    for repo in repositories:
        if getattr(repo, "type", None) == "aws" and getattr(repo, "region", None) == region \
                and getattr(repo, "endpoint_url", None):
            return AwsEndpoint(region=region, endpoint_url=repo.endpoint_url)
    return AwsEndpoint(region=region)


def endpoint_for(service: str, endpoint_url: str | None) -> str | None:
    """The endpoint a `service` client calls: the resource's own `endpoint_url`, else
    ``AWS_ENDPOINT_URL_<SERVICE>``, else ``AWS_ENDPOINT_URL``, else None (AWS's public one).

    >>> endpoint_for("s3", "http://127.0.0.1:9000")
    'http://127.0.0.1:9000'
    """
    if endpoint_url:
        return endpoint_url
    specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}")
    return specific or os.environ.get("AWS_ENDPOINT_URL") or None


def make_client(service: str, where: AwsEndpoint, *, max_attempts: int = DEFAULT_ATTEMPTS,
                max_pool_connections: int = 10) -> Any:
    """A boto3 client of `service` in `where.region`: the one place drydock makes clients.

    Takes the service name (``rds``), the endpoint (an explicit region is required; the
    URL as `endpoint_for` resolves it), how many attempts a call gets in all, the first
    included, in botocore's ``standard`` retry mode (throttling and transient errors are
    retried with backoff) and the connection pool size. Credentials come from boto3's
    standard chain. Returns the client; raises ValueError when no region is given.
    """
    if not where.region:
        raise ValueError(f"an AWS {service} client needs an explicit region")
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        region_name=where.region,
        endpoint_url=endpoint_for(service, where.endpoint_url),
        config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts},
                      connect_timeout=10, read_timeout=60,
                      max_pool_connections=max_pool_connections),
    )


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError (``DBSnapshotNotFound``), else ''."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def one_line(text: str, limit: int = 300) -> str:
    """`text` with its whitespace collapsed to single spaces, at most `limit` characters."""
    return " ".join(str(text).split())[:limit]


def describe_failure(exc: Exception, *, subject: str, operation: str, service: str,
                     where: AwsEndpoint) -> str:
    """A one-line message for a failed AWS call, naming `subject` and what to do next.

    Takes the botocore exception, what the call was about (``repository rds-a``), the
    operation (``create snapshot``), the service and its endpoint.
    """
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    label = SERVICE_LABELS.get(service, service)
    if isinstance(exc, ClientError):
        message = one_line(exc.response.get("Error", {}).get("Message", ""))
        return (f"{subject}: {label} refused {operation} ({error_code(exc)}: {message}); "
                f"check region {where.region} and that the credentials may do it")
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (f"{subject}: no AWS credentials for {operation}; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, a profile or an instance role")
    return (f"{subject}: cannot reach {label} endpoint {where.url(service)} for {operation} "
            f"({one_line(str(exc))}); check endpoint_url, the network and the region")


@contextmanager
def translated(error: Callable[[str], Exception], *, subject: str, operation: str,
               service: str, where: AwsEndpoint) -> Iterator[None]:
    """Turn botocore errors raised inside the block into `error(one-line message)`.

    >>> with translated(ValueError, subject="x", operation="list", service="rds",
    ...                 where=AwsEndpoint(region="eu-west-1")):
    ...     pass
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise error(describe_failure(exc, subject=subject, operation=operation,
                                     service=service, where=where)) from exc
