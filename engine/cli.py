"""The `drydock` command line: thin typer commands over the engine's operations."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.commands import backups, core, demo, recover, restore_cmd, state_cmds, state_migrate
from engine.commands.forget import forget_command

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


app.command()(core.validate)
app.command()(core.schema)
app.command()(core.plan)
app.command()(core.apply)
app.command()(core.show)
app.command()(core.graph)
app.command()(core.drift)
app.command()(restore_cmd.restore)
app.command()(recover.recover)
app.command()(demo.demo)
app.add_typer(state_cmds.app, name="state")
app.add_typer(backups.app, name="backups")
backups.app.command(name="forget")(forget_command)
state_cmds.app.command(name="migrate")(state_migrate.migrate)


def main() -> None:
    """Console-script entry point."""
    app()
