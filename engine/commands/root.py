"""The `drydock` typer application itself: its help and the eager `--version` option.

`engine/cli.py` gives it the lazy table of commands; the demo runs commands through it.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="drydock",
    help="Plan and apply WSO2-style middleware estates from specs in git.\n\n"
         "Start with: drydock demo   (builds a local world and runs the whole story)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        import platform

        from engine import __version__
        from engine.formats import PLAN_FORMAT
        from state.formats import STATE_FORMAT

        print(f"drydock {__version__}\nplan format {PLAN_FORMAT}\nstate format {STATE_FORMAT}"
              f"\npython {platform.python_version()}")
        raise typer.Exit(0)


def _no_color(value: bool) -> None:
    """`--no-color` is NO_COLOR for this run (https://no-color.org): set before any
    console exists, since commands are imported only when they run."""
    if value:
        import os

        os.environ["NO_COLOR"] = "1"


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and the plan and state format versions, and exit.")
    ] = False,
    no_color: Annotated[bool, typer.Option(
        "--no-color", callback=_no_color, is_eager=True,
        help="No colour even on a terminal (as NO_COLOR=1 does).")] = False,
) -> None:
    """Plan and apply WSO2-style middleware estates from specs in git."""
