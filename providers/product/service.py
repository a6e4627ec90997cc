"""Start, stop and health-check a server through its declared service commands."""

from __future__ import annotations

import http.client
import shlex
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from engine.contracts.provider import ActionFailed
from providers.hosts.base import Transport

POLL_SECONDS = 0.2


def _argv(home: Path, command: str) -> list[str]:
    argv = shlex.split(command)
    if not argv:
        raise ActionFailed("empty service command")
    first = Path(argv[0])
    if not first.is_absolute() and "/" in argv[0]:
        argv[0] = str(home / first)
    return argv


def run_service_command(transport: Transport, home: Path, command: str, what: str,
                        timeout: float = 300) -> str:
    """Run a start/stop command in the home; ActionFailed with its stderr on failure."""
    result = transport.run(_argv(home, command), cwd=home, timeout=timeout)
    if not result.ok:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ActionFailed(f"{what} failed (exit {result.returncode}): "
                           f"{detail[-1] if detail else 'no output'}")
    return result.stdout.strip()


def http_status(url: str, timeout: float) -> int | None:
    """The HTTP status of a GET, or None when nothing answers.

    Raises ActionFailed for a URL that is not http(s).
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ActionFailed(f"health URL {url!r} must start with http:// or https://")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (spec URL)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return None


def wait_healthy(transport: Transport, home: Path, health: dict[str, Any], what: str) -> str:
    """Poll the health check until it passes or its timeout ends; ActionFailed then."""
    limit = float(health.get("timeout_seconds") or 120)
    deadline = time.monotonic() + limit
    expect = int(health.get("expect_status") or 200)
    last = "no answer"
    while True:
        if health.get("http"):
            status = http_status(health["http"], timeout=2)
            if status == expect:
                return f"{what}: {health['http']} answered {status}"
            last = f"{health['http']} answered {status}" if status else \
                f"{health['http']} did not answer"
        else:
            left = max(1.0, min(30.0, deadline - time.monotonic()))
            result = transport.run(_argv(home, health["command"]), cwd=home, timeout=left)
            if result.ok:
                return f"{what}: health command passed"
            last = f"health command exited {result.returncode}"
        if time.monotonic() >= deadline:
            raise ActionFailed(f"{what} is not healthy after {limit:g}s: {last}")
        time.sleep(POLL_SECONDS)
