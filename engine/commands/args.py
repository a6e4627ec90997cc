"""Arguments and options several commands share (cheap to import: typer and nothing of
drydock's models)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    """Output formats of reporting commands."""

    text = "text"
    markdown = "markdown"
    json = "json"


EnvArg = Annotated[str | None, typer.Argument(help="Environment folder (default: current).")]
Replace = Annotated[list[str] | None, typer.Option(
    "--replace", metavar="ADDR",
    help="Rebuild this server although unchanged (repeatable): a fresh home from the pack "
         "at its level, its patches and config applied again, its runtime data kept.")]
