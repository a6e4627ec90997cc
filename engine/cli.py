"""The `drydock` command line: a static table of commands, each imported only when it runs.

`drydock --help` and `--version` import no command module at all. Adding a command is one
entry in COMMANDS: its name, `"module:function"` (or a `typer.Typer` sub-application) and
the one line `--help` shows for it. The plain forms of `drydock plan` are first offered to
the no-op plan memo, before typer is even imported (`engine/commands/plan_shortcut.py`).
"""

from __future__ import annotations

from typing import Any

from engine.commands.lazy_table import Lazy

COMMANDS: dict[str, Lazy] = {
    "init": Lazy("engine.commands.init:init",
                 "Start an environment folder: skeleton spec, schema, .gitignore, README."),
    "validate": Lazy("engine.commands.validate:validate",
                     "Check specs; every problem printed as FILE:LINE:COL: message."),
    "schema": Lazy("engine.commands.core:schema",
                   "Print the JSON Schema of a spec file, a plan or the state."),
    "fmt": Lazy("engine.commands.fmt:fmt",
                "Rewrite spec files in the canonical YAML layout, comments kept."),
    "plan": Lazy("engine.commands.plan_cmd:plan",
                 "Show what apply would do: changes, drift and the ordered actions."),
    "apply": Lazy("engine.commands.core:apply",
                  "Perform a plan: exactly its actions, in dependency order."),
    "show": Lazy("engine.commands.core:show", "Render a saved plan."),
    "graph": Lazy("engine.commands.core:graph",
                  "Print the plan's action graph as Graphviz dot or Mermaid."),
    "drift": Lazy("engine.commands.core:drift",
                  "Report where the world moved away from the recorded state."),
    "import": Lazy("engine.commands.import_cmd:import_",
                   "Record declared servers and databases as they exist (adopt them)."),
    "restore": Lazy("engine.commands.restore:restore",
                    "Restore from a snapshot, a change backup, or the last good state."),
    "recover": Lazy("engine.commands.recover:recover",
                    "Rebuild the environment at a site from the snapshots there."),
    "completion": Lazy("engine.commands.completion:completion",
                       "Print the shell completion script (bash, zsh or fish)."),
    "demo": Lazy("engine.commands.demo:demo",
                 "Build a local demo world and run the whole story."),
    "state": Lazy("engine.commands.state_cmds:app", "Inspect and repair the recorded state.", {
        "migrate": Lazy("engine.commands.state_migrate:migrate",
                        "Move the state and its whole history to another backend."),
        "mv": Lazy("engine.commands.state_mv:mv",
                   "Move a recorded resource to a new address after a rename."),
    }),
    "backups": Lazy("engine.commands.backups:app",
                    "Backup catalog, verification, pins and retention.", {
        "forget": Lazy("engine.commands.forget:forget_command",
                       "Show which snapshots a keep policy keeps, and forget the rest."),
        "ls": Lazy("engine.commands.snapshots:ls",
                   "List what a snapshot holds: its parts and every path."),
        "diff": Lazy("engine.commands.snapshots:diff",
                     "Show what changed between two snapshots."),
        "stats": Lazy("engine.commands.snapshots:stats",
                      "Count snapshots and bytes per repository and series."),
        "check": Lazy("engine.commands.snapshots:check",
                      "Check whole repositories: manifests, parts, orphans."),
        "artifacts": Lazy("engine.commands.artifacts:artifacts",
                          "List the packs, updates and patches replicated per repository."),
    }),
}



def build_app() -> Any:
    """The typer application with the lazy command table."""
    from engine.commands.lazy import lazy_group
    from engine.commands.root import app

    app.info.cls = lazy_group(COMMANDS)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(name)


COMPLETE_VAR = "_DRYDOCK_COMPLETE"
"""Set by the completion scripts when the shell asks drydock for completions."""


def enable_completion() -> None:
    """Register typer's bash, zsh and fish completion (the scripts of `drydock completion`
    call back with COMPLETE_VAR set, and typer answers)."""
    from typer._completion_classes import completion_init

    completion_init()


def main() -> None:
    """Console-script entry point."""
    import os
    import sys

    if COMPLETE_VAR in os.environ:
        enable_completion()
    else:
        from engine.commands.plan_shortcut import answered

        if answered(sys.argv[1:]):
            return
    build_app()()
