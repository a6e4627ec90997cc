"""`drydock completion bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Shell(StrEnum):
    """Shells drydock writes completion scripts for."""

    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")],
) -> None:
    """Print the completion script for SHELL on stdout.

    Examples:
      drydock completion bash > ~/.local/share/bash-completion/completions/drydock
      drydock completion zsh > "${fpath[1]}/_drydock"
      drydock completion fish > ~/.config/fish/completions/drydock.fish
    """
    from typer._completion_shared import get_completion_script

    from engine.cli import COMPLETE_VAR, enable_completion

    enable_completion()
    script = get_completion_script(prog_name="drydock", complete_var=COMPLETE_VAR,
                                   shell=shell.value)
    typer.echo(script)
