"""AWS throttling is retried by botocore's standard retry mode, and when it goes on the
error is one line naming the repository and the error code. The throttling is injected at
the HTTP level by a proxy in front of moto (see tests.helpers.throttle): moto never
throttles, so this is the one fault that has to be made."""

from __future__ import annotations

import pytest

from providers.aws.clients import DEFAULT_ATTEMPTS
from providers.aws.rds import RdsSnapshotStore
from providers.repositories.errors import RepositoryError
from tests.helpers.throttle import throttling_proxy


def test_throttled_calls_are_retried_until_they_succeed(moto_endpoint: str,
                                                        aws_env: None) -> None:
    with throttling_proxy(moto_endpoint, failures=DEFAULT_ATTEMPTS - 1) as proxy:
        store = RdsSnapshotStore("rds-a", "eu-west-1", endpoint_url=proxy.url)
        assert store.snapshots("no-such-series") == []
    assert (proxy.refused, proxy.forwarded) == (DEFAULT_ATTEMPTS - 1, 1)


def test_throttling_that_goes_on_is_one_line_naming_the_resource_and_code(
        moto_endpoint: str, aws_env: None) -> None:
    with throttling_proxy(moto_endpoint, failures=DEFAULT_ATTEMPTS) as proxy:
        store = RdsSnapshotStore("rds-a", "eu-west-1", endpoint_url=proxy.url)
        with pytest.raises(RepositoryError) as caught:
            store.snapshots("no-such-series")
    assert proxy.refused == DEFAULT_ATTEMPTS and proxy.forwarded == 0
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("repository rds-a: RDS refused list snapshots (Throttling: ")
