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
        from engine import __version__

        print(f"drydock {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Plan and apply WSO2-style middleware estates from specs in git."""
