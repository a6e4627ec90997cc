"""Start, stop and health-check a server through its declared service commands.

Everything runs where the service is, on the server's host through its transport: the
start and stop commands, a health command, and the HTTP probe of a health URL (with
`curl` when the host has it, else a small Python probe passed as an argument list; never
a shell string). `from: controller` fetches the URL from where drydock runs instead.
"""

from __future__ import annotations

import shlex
import time
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from engine.contracts.provider import ActionFailed
from providers.hosts.base import Transport

POLL_SECONDS = 0.2
PROBE_SECONDS = 2
PROBE = (
    "import sys, urllib.error, urllib.request\n"
    "try:\n"
    "    print(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status)\n"
    "except urllib.error.HTTPError as exc:\n"
    "    print(exc.code)\n"
    "except Exception:\n"
    "    print('000')\n"
)
"""The probe for hosts without curl: prints the status, `000` when nothing answers."""


def _argv(home: PurePosixPath, command: str) -> list[str]:
    argv = shlex.split(command)
    if not argv:
        raise ActionFailed("empty service command")
    first = PurePosixPath(argv[0])
    if not first.is_absolute() and "/" in argv[0]:
        argv[0] = str(home / first)
    return argv


def run_service_command(transport: Transport, home: PurePosixPath, command: str, what: str,
                        timeout: float = 300) -> str:
    """Run a start/stop command in the home; ActionFailed with its stderr on failure."""
    result = transport.run(_argv(home, command), cwd=home, timeout=timeout)
    if not result.ok:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ActionFailed(f"{what} failed (exit {result.returncode}): "
                           f"{detail[-1] if detail else 'no output'}")
    return result.stdout.strip()


PID_FILE = "wso2carbon.pid"
"""Where a Carbon server records its process id, in its home, while it runs."""


def service_died(transport: Transport, home: PurePosixPath) -> bool:
    """True when the home's `wso2carbon.pid` names a process that no longer runs on the
    host (Linux `/proc/<pid>`): the server was killed. No pid file tells nothing (a clean
    stop removes it; some services never write one)."""
    st = transport.stat(home / PID_FILE)
    if st is None or st.kind != "file":
        return False
    text = transport.read_bytes(home / PID_FILE, limit=64).decode("ascii", "replace").strip()
    return text.isdigit() and transport.stat(PurePosixPath("/proc") / text) is None


def _check_url(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ActionFailed(f"health URL {url!r} must start with http:// or https://")


def http_status(url: str, timeout: float) -> int | None:
    """The HTTP status of a GET from this machine, or None when nothing answers.

    Raises ActionFailed for a URL that is not http(s).
    """
    _check_url(url)
    import http.client  # only a health check needs the HTTP client (and ssl)
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (spec URL)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return None


def _status_of(output: str) -> int | None:
    code = output.strip()[-3:]
    return int(code) if code.isdigit() and code != "000" else None


def host_http_status(transport: Transport, url: str, timeout: float = PROBE_SECONDS
                     ) -> int | None:
    """The HTTP status of a GET made on the host itself, or None when nothing answers.

    Uses curl; on a host without it (exit 127) the Python probe. Raises ActionFailed for
    a URL that is not http(s), or when the host has neither curl nor python3.
    """
    _check_url(url)
    limit = timeout + 10
    result = transport.run(["curl", "--silent", "--output", "/dev/null", "--write-out",
                            "%{http_code}", "--max-time", f"{timeout:g}", url], timeout=limit)
    if result.returncode == 127:
        result = transport.run(["python3", "-c", PROBE, url, f"{timeout:g}"], timeout=limit)
        if result.returncode == 127:
            raise ActionFailed(f"{transport.host} has neither curl nor python3 to probe {url}; "
                               "install one or set 'health: {from: controller}'")
    return _status_of(result.stdout)


def wait_healthy(transport: Transport, home: PurePosixPath, health: dict[str, Any],
                 what: str) -> str:
    """Poll the health check until it passes or its timeout ends; ActionFailed then."""
    limit = float(health.get("timeout_seconds") or 120)
    deadline = time.monotonic() + limit
    expect = int(health.get("expect_status") or 200)
    last = "no answer"
    while True:
        if health.get("http"):
            url = health["http"]
            status = http_status(url, timeout=PROBE_SECONDS) \
                if health.get("from") == "controller" else host_http_status(transport, url)
            if status == expect:
                return f"{what}: {url} answered {status}"
            last = f"{url} answered {status}" if status else f"{url} did not answer"
        else:
            left = max(1.0, min(30.0, deadline - time.monotonic()))
            result = transport.run(_argv(home, health["command"]), cwd=home, timeout=left)
            if result.ok:
                return f"{what}: health command passed"
            last = f"health command exited {result.returncode}"
        if time.monotonic() >= deadline:
            raise ActionFailed(f"{what} is not healthy after {limit:g}s: {last}")
        time.sleep(POLL_SECONDS)
