"""Bounded waiting on AWS: boto3 waiters run in rounds, progress between rounds, a limit.

Every wait of the AWS providers (RDS snapshots and instances, AMIs, launched instances)
goes through `wait_bounded`: boto3's own waiter polls `wait.report_every` times per
round; between rounds a progress line says what AWS reports; after `wait.attempts`
polls in all the wait ends with the caller's timeout error. A waiter that fails for any
other reason (the resource vanished, AWS refused the describe, a failure state) is
turned into the caller's error by `failed`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Progress = Callable[[str], None]


class AwsWait(BaseModel):
    """How to wait for AWS to finish something: poll interval, how many polls at most
    (default 240 x 30 s = 2 h) and how many polls between progress lines (5 min)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    poll: timedelta = timedelta(seconds=30)
    attempts: int = Field(default=240, ge=1)
    report_every: int = Field(default=10, ge=1)

    @classmethod
    def lasting(cls, max_wait: timedelta, *, poll: timedelta = timedelta(seconds=30),
                report_every: timedelta = timedelta(minutes=5)) -> AwsWait:
        """Wait at most `max_wait`, polling every `poll` (at least 1 s), reporting every
        `report_every`.

        >>> AwsWait.lasting(timedelta(hours=1)).attempts
        120
        """
        step = max(timedelta(seconds=1), poll)
        return cls(poll=step, attempts=max(1, math.ceil(max_wait / step)),
                   report_every=max(1, math.ceil(report_every / step)))


def quiet(_message: str) -> None:
    """A progress callback that says nothing."""
    return None


def wait_bounded(waiter: Any, params: dict[str, Any], wait: AwsWait, *,
                 calling: Callable[[], AbstractContextManager[None]],
                 pending: Callable[[Any], str], failed: Callable[[Any], Exception],
                 timed_out: Callable[[str, str], Exception], progress: Progress,
                 subject: str) -> None:
    """Run boto3 `waiter` with `params` until it succeeds, at most `wait.attempts` polls.

    Takes the waiter, its parameters, the bounds, a context manager factory that turns
    botocore errors into the caller's (`calling`), a function describing the last
    response while still pending (``creating, 30%``), one turning a failed waiter into
    the caller's error, one building the timeout error from (pending text, waited
    text), the progress callback and the subject that starts progress lines. Returns
    when the waiter succeeded; raises what `failed` or `timed_out` return.
    """
    from botocore.exceptions import WaiterError

    delay = int(wait.poll.total_seconds())
    done = 0
    while True:
        attempts = min(wait.report_every, wait.attempts - done)
        with calling():
            try:
                waiter.wait(**params, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
                return
            except WaiterError as exc:  # a BotoCoreError: handled before `calling` sees it
                if not str(exc.kwargs.get("reason", "")).startswith("Max attempts exceeded"):
                    raise failed(exc) from None
                last = exc.last_response
        done += attempts
        status = pending(last)
        waited = f"{done} checks, {timedelta(seconds=delay * done)}"
        if done >= wait.attempts:
            raise timed_out(status, waited)
        progress(f"{subject}: {status} after {waited}")


@dataclass(frozen=True)
class WaitFailures:
    """How a failed wait on one kind of AWS object reads: the service's label (``RDS``),
    the objects (``snapshots``), the error codes that mean it is gone, the errors to raise
    for a gone one and for anything else, and the advice after a failure state."""

    label: str
    things: str
    gone: frozenset[str]
    missing: Callable[[str], Exception]
    error: Callable[[str], Exception]
    advice: str

    def of(self, subject: str, exc: Any, state: Callable[[Any], str]) -> Exception:
        """The error for waiter failure `exc` about `subject`; `state` reads the last
        response's state (``failed``)."""
        found = error_response(exc)
        if found is not None:
            code, message = found
            if code in self.gone:
                return self.missing(f"{subject}: not found while waiting for it")
            return self.error(f"{subject}: {self.label} refused describe while waiting ({code}: "
                              f"{message}); check the credentials may describe {self.things}")
        return self.error(f"{subject}: {self.label} reports {state(exc.last_response)}; "
                          f"{self.advice}")


def error_response(exc: Any) -> tuple[str, str] | None:
    """(code, message) of the AWS error a failed waiter last saw, or None when it saw a
    failure state instead."""
    response = getattr(exc, "last_response", None) or {}
    if "Error" not in response:
        return None
    error = response["Error"]
    return str(error.get("Code", "")), " ".join(str(error.get("Message", "")).split())[:300]
