"""Hypothesis settings shared by the fuzz tests: examples per run from the environment.

``DRYDOCK_FUZZ_EXAMPLES`` raises the count for a longer soak run (``make soak``); the
default keeps ``make test`` short. No example database is written into the worktree.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def fuzz_examples(default: int) -> int:
    """Examples per fuzz test: DRYDOCK_FUZZ_EXAMPLES when set, else `default`."""
    value = os.environ.get("DRYDOCK_FUZZ_EXAMPLES", "")
    return int(value) if value.isdigit() else default


def fuzz(default: int) -> settings:
    """Settings for one fuzz test with `default` examples."""
    return settings(max_examples=fuzz_examples(default), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
