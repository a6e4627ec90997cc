"""The `drydock` typer application itself, before any command is registered on it.

`engine/cli.py` registers the commands; the demo runs commands through this same app
without importing the module that registers them.
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
        from importlib import metadata

        try:
            print(f"drydock {metadata.version('drydock')}")
        except metadata.PackageNotFoundError:
            print("drydock (not installed)")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Plan and apply WSO2-style middleware estates from specs in git."""
