"""boto3 clients for the AWS providers, built on first use, and AWS errors as one line.

boto3 is imported inside the functions that need it, so nothing pays for it until an
AWS resource is touched. Credentials come from boto3's usual chain (environment, profile,
instance role), never from the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

SERVICE_LABELS = {"rds": "RDS", "ec2": "EC2", "s3": "S3"}


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
        return self.endpoint_url or f"https://{service}.{self.region}.amazonaws.com"


def make_client(service: str, where: AwsEndpoint, *, max_attempts: int = 3) -> Any:
    """A boto3 client of `service` in `where.region` (at `where.endpoint_url` when given).

    Takes the service name (``rds``), the endpoint and how many attempts a call gets
    (boto3's standard retry mode). Returns the client; raises nothing until it is used.
    """
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        region_name=where.region,
        endpoint_url=where.endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": max_attempts},
                      connect_timeout=10, read_timeout=60),
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
