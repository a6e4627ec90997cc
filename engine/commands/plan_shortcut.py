"""The plain forms of `drydock plan`, answered from the no-op plan memo before the command
line is parsed: `drydock plan [DIR] [--format text|json|markdown] [--detailed-exitcode]`.

Parsing with typer costs more than answering from the memo (typer builds a validator for
every option), so these forms are recognised here first; anything else, including
`--help` and every other option, and any memo that does not hold, goes to typer and the
full command (`engine/commands/plan_cmd.py`), which behaves the same with or without
this shortcut.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

FORMATS = ("text", "json", "markdown")


def plain_plan(argv: Sequence[str]) -> tuple[str | None, str] | None:
    """(folder or None, format) when `argv` is a plain plan, else None."""
    if not argv or argv[0] != "plan":
        return None
    env: str | None = None
    fmt = "text"
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--detailed-exitcode":
            continue  # a no-op plan exits 0 either way
        if arg == "--format" and rest:
            fmt = rest.pop(0)
        elif arg.startswith("--format="):
            fmt = arg.partition("=")[2]
        elif arg and not arg.startswith("-") and env is None:
            env = arg
        else:
            return None
    return (env, fmt) if fmt in FORMATS else None


def answered(argv: Sequence[str]) -> bool:
    """Print the kept plan and return True when `argv` is a plain plan whose memo holds."""
    found = plain_plan(argv)
    if found is None:
        return False
    from engine.plan_memo.replay import replayed

    env, fmt = found
    kept = replayed(Path(env) if env else Path.cwd(), fmt)
    if kept is None:
        return False
    sys.stdout.write(kept)
    sys.stdout.flush()
    return True
