"""The `drydock` command line: thin typer commands over the engine's operations."""

from __future__ import annotations

import typer

from engine.commands import backups, core, restore, state_cmds

app = typer.Typer(
    name="drydock",
    help="Plan and apply WSO2-style middleware estates from specs in git.\n\n"
         "Start with: drydock demo   (builds a local world and runs the whole story)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.command()(core.validate)
app.command()(core.schema)
app.command()(core.plan)
app.command()(core.apply)
app.command()(core.show)
app.command()(core.graph)
app.command()(core.drift)
app.command()(restore.restore)
app.add_typer(state_cmds.app, name="state")

backups_app = backups.app
app.add_typer(backups_app, name="backups")


def _register_optional() -> None:
    """Commands living in their own modules."""
    from engine.commands import demo

    app.command(name="demo")(demo.demo)
    from engine.commands.forget import forget_command

    backups_app.command(name="forget")(forget_command)
    from engine.commands import recover, restore_snapshot

    app.command(name="recover")(recover.recover)
    # Temporary: merged into `restore` (SNAPSHOT --to ADDR, --last-good server.X) later.
    app.command(name="restore-snapshot", hidden=True)(restore_snapshot.restore_snapshot)
    app.command(name="restore-last-good", hidden=True)(restore_snapshot.restore_last_good)


_register_optional()


def main() -> None:
    """Console-script entry point."""
    app()
