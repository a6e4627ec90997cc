"""The demo's steps: a heading, and one drydock command run as the operator would type it."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable

import typer

Run = Callable[[list[str], int], None]


def banner(text: str) -> None:
    """A step heading, bold on a terminal."""
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def run_step(args: list[str], expect: int, *, quiet: bool = False) -> None:
    from engine.cli import app

    if args[0] == "apply":
        # The demo's world is scratch: let people edit specs/demo and re-run it freely.
        args = [*args, "--allow-dirty"]
    when = os.environ.get("DRYDOCK_NOW")
    prefix = f"DRYDOCK_NOW={when} " if when else ""
    print(f"$ {prefix}drydock {' '.join(args)}", flush=True)
    try:
        if quiet:
            with contextlib.redirect_stdout(io.StringIO()) as captured:
                code = app(args, standalone_mode=False)
            last = captured.getvalue().strip().splitlines()
            print(last[-1] if last else "", flush=True)
        else:
            code = app(args, standalone_mode=False)
    except SystemExit as exc:  # pragma: no cover - typer may still exit
        code = exc.code
    code = int(code or 0)
    print(f"(exit {code})", flush=True)
    if code != expect:
        print(f"error: the demo expected exit {expect} from 'drydock {' '.join(args)}'",
              file=sys.stderr)
        raise typer.Exit(1)
