"""Shared CLI plumbing: consoles, the error boundary, opening an environment."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel

from engine.commands.args import Format
from engine.spec.errors import SpecError

if TYPE_CHECKING:
    from engine.workspace import Workspace
    from state.manager import StateManager

F = TypeVar("F", bound=Callable[..., Any])

class _Console:
    """A rich Console built (and rich imported) on first use: most runs print plain text."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def rich(self) -> Any:
        """The rich Console itself (for rich's own classes, e.g. a progress bar)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.rich(), name)


err: Any = _Console(stderr=True, highlight=False, soft_wrap=True)
out: Any = _Console(highlight=False, soft_wrap=True)
_RICH_TERMINAL_ENV = ("FORCE_TERMINAL", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def stderr_is_terminal() -> bool:
    """`err.is_terminal`, without importing rich when stderr is plainly not a terminal."""
    if not sys.stderr.isatty() and not any(k in os.environ for k in _RICH_TERMINAL_ENV):
        return False
    return bool(err.is_terminal)

def known_errors() -> tuple[type[Exception], ...]:
    """drydock's own errors, each shown as one line (imported when an error is being
    handled: a command that never fails this way never imports the planners behind
    them)."""
    from engine.clock import ClockError
    from engine.contracts.queries import QueryFailed
    from engine.desired.servers import DesiredStateError
    from engine.operations.catalog import CatalogError
    from engine.operations.plan_apply import StalePlanError
    from engine.planners.assemble import PlanError
    from engine.planners.recover import RecoverError
    from engine.planners.restore.common import RestoreError
    from engine.secrets import SecretError
    from state.errors import StateError

    return (SpecError, StateError, PlanError, StalePlanError, ClockError, DesiredStateError,
            SecretError, RestoreError, RecoverError, CatalogError, QueryFailed)


def require_format(fmt: Format, *allowed: Format) -> Format:
    """`fmt` when the command can write it; otherwise exit 1 naming the ones it can (a
    format accepted and then ignored would hand CI something else than it asked for)."""
    if fmt not in allowed:
        names = " or ".join(f.value for f in allowed)
        fail(f"--format {fmt.value}: this command writes {names}")
    return fmt


def fail(message: str) -> NoReturn:
    """Print `error: message` on stderr and exit 1 (styled only on a terminal without
    NO_COLOR / --no-color)."""
    if stderr_is_terminal() and not err.no_color:
        err.print(f"[bold red]error:[/] {message}", markup=True)
    else:
        print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(1)


def guarded(func: F) -> F:
    """Turn drydock's known errors into one-line messages and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            for issue in exc.issues:
                print(str(issue), file=sys.stderr)
            print(f"error: {len(exc.issues)} problem(s) in the spec; fix them and run "
                  "'drydock validate' again", file=sys.stderr)
            raise typer.Exit(1) from None
        except Exception as exc:
            if isinstance(exc, known_errors()):
                fail(str(exc))
            raise

    return wrapper  # type: ignore[return-value]


def confirm(actions: int, what: str, *, hint: str = "") -> bool:
    """Ask for 'yes' before `what` runs `actions` actions; fail without a terminal."""
    if not sys.stdin.isatty():
        fail(f"{what} needs confirmation but there is no terminal; review the plan and re-run "
             f"with --auto-approve{hint}")
    answer = typer.prompt(f"Apply these {actions} actions? Only 'yes' is accepted")
    return answer.strip() == "yes"


def env_dir(env: str | None) -> Path:
    """The environment folder: the argument, or the current directory."""
    return Path(env) if env else Path.cwd()


def workspace(env: str | None, *, lock_timeout: float = 0.0) -> Workspace:
    """Open the environment with the default providers; its state lock waits up to
    `lock_timeout` seconds for another run (`--lock-timeout`)."""
    import dataclasses

    from engine.wiring import open_workspace

    ws = open_workspace(env_dir(env))
    if lock_timeout > 0:
        ws = dataclasses.replace(ws, state=waiting_state(ws.state, lock_timeout))
    return ws


def waiting_state(state: StateManager, seconds: float) -> StateManager:
    """`state` whose lock waits up to `seconds` for another run, saying once on stderr
    that it waits and for whom."""
    def told(held: Exception) -> None:
        why = str(held).split("; ", 1)[0]
        print(f"waiting up to {seconds:g}s (--lock-timeout): {why}", file=sys.stderr,
              flush=True)

    return state.waiting(seconds, on_wait=told) if seconds > 0 else state


def parse_lock_timeout(text: str) -> float:
    """`--lock-timeout` as seconds: a spec duration (`30s`, `5m`) or a number of seconds."""
    from engine.spec.durations import parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if seconds < 0:
        raise typer.BadParameter("the lock timeout cannot be negative")
    return seconds


LockTimeout = Annotated[float, typer.Option(
    "--lock-timeout", parser=parse_lock_timeout, metavar="DURATION",
    help="Wait this long for another run's state lock (e.g. 30s, 5m); default: fail at once.")]


def print_json(model: BaseModel | dict | list) -> None:
    """Write JSON to stdout (never coloured, always parseable)."""
    if isinstance(model, BaseModel):
        text = model.model_dump_json(indent=2)
    else:
        text = json.dumps(model, indent=2, default=str, sort_keys=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_text(text: str) -> None:
    """Write plain text to stdout."""
    sys.stdout.write(text)
    sys.stdout.flush()


def who() -> str:
    """`user@host` of whoever runs this command (recorded with every state write)."""
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()}"
