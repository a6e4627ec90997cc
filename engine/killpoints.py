"""Deterministic kill points: named places where a run may be killed to prove crash safety.

The walker, the state recorder and long provider actions call `reached(point)` at every
action boundary and between the steps of a long action. It does nothing unless one of two
environment variables is set (read at each call, so a test sets them per run):

- `DRYDOCK_KILL_LOG=FILE`: every point reached is appended to FILE, one id a line, so a
  test can first list the points of a full run;
- `DRYDOCK_KILL_AT=ID`: when point ID is reached, the process sends itself SIGKILL, the
  one signal nothing can catch or clean up after (as a CI timeout or the OOM killer does).

Point ids are the same in every run of one spec and world: `<action id>:<where>`, every
snapshot or plan id in them written `<id>`. `where` is `start` (the action's intent is
journaled, nothing done yet), `end` (done, its result not yet journaled) or
`inside:<step>` between the steps of a long action; `apply:<where>` names the run's own
steps. Inside an action, `reached_inside(step)` names the running action itself.
"""

from __future__ import annotations

import contextvars
import os
import re
import signal

KILL_AT = "DRYDOCK_KILL_AT"
KILL_LOG = "DRYDOCK_KILL_LOG"

_IDS = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
"""Snapshot and plan ids (`20260203T030000Z-6a44fa`): new in every plan, so not in ids."""

_action: contextvars.ContextVar[str | None] = contextvars.ContextVar("kill_action", default=None)


def reached(point: str) -> None:
    """Log `point` and/or die on it, as the environment says; a no-op otherwise."""
    log, at = os.environ.get(KILL_LOG), os.environ.get(KILL_AT)
    if not log and not at:
        return
    point = _IDS.sub("<id>", point)
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, point.encode("utf-8", "replace") + b"\n")
        finally:
            os.close(fd)
    if at == point:
        os.kill(os.getpid(), signal.SIGKILL)


def running(action_id: str | None) -> contextvars.Token[str | None]:
    """Mark `action_id` as the action this thread runs (the walker calls it); returns the
    token `done` takes."""
    return _action.set(action_id)


def done(token: contextvars.Token[str | None]) -> None:
    """Forget the running action set with `running`."""
    _action.reset(token)


def reached_inside(step: str) -> None:
    """`reached("<running action id>:inside:<step>")`; a no-op outside an action."""
    action = _action.get()
    if action is not None:
        reached(f"{action}:inside:{step}")
