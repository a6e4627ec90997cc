"""The `drydock` command line: thin typer commands over the engine's operations."""

from __future__ import annotations

from engine.commands import (
    backups,
    core,
    demo,
    recover,
    restore,
    state_cmds,
    state_migrate,
    validate,
)
from engine.commands.forget import forget_command
from engine.commands.root import app

app.command()(validate.validate)
app.command()(core.schema)
app.command()(core.plan)
app.command()(core.apply)
app.command()(core.show)
app.command()(core.graph)
app.command()(core.drift)
app.command()(restore.restore)
app.command()(recover.recover)
app.command()(demo.demo)
app.add_typer(state_cmds.app, name="state")
app.add_typer(backups.app, name="backups")
backups.app.command(name="forget")(forget_command)
state_cmds.app.command(name="migrate")(state_migrate.migrate)


def main() -> None:
    """Console-script entry point."""
    app()
