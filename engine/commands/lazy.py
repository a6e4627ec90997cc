"""A command group that imports a command's module only when that command runs.

The group is built from a static table of names, import targets and one-line helps, so
`drydock --help` lists every command without importing any of them, and `drydock plan`
imports the plan command's modules and nothing else. A target is `"module:attribute"`
naming either a typer-decorated function or a `typer.Typer` sub-application; a
sub-application may get further lazy commands of its own (`sub`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import TyperInfo

from engine.commands.lazy_table import Lazy

__all__ = ["Lazy", "LazyGroup", "lazy_group"]


def _load(name: str, entry: Lazy) -> TyperCommand | TyperGroup:
    module, _, attr = entry.target.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    if isinstance(obj, typer.Typer):
        info = TyperInfo(obj, name=name, cls=lazy_group(entry.sub) if entry.sub else None)
        return get_group_from_info(info, pretty_exceptions_short=True,
                                   suggest_commands=True, rich_markup_mode=None)
    holder = typer.Typer()
    holder.command(name=name)(obj)
    return get_command_from_info(holder.registered_commands[0],
                                 pretty_exceptions_short=True, rich_markup_mode=None)


class _Commands(MutableMapping[str, Any]):
    """The group's `commands`: the eagerly registered ones, then the table, loaded on use."""

    def __init__(self, eager: MutableMapping[str, Any], table: Mapping[str, Lazy]) -> None:
        self.eager = eager
        self.table = table

    def __getitem__(self, name: str) -> Any:
        if name not in self.eager:
            self.eager[name] = _load(name, self.table[name])
        return self.eager[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        self.eager[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self.eager[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.eager
        yield from (n for n in self.table if n not in self.eager)

    def __len__(self) -> int:
        return len(set(self.eager) | set(self.table))

    def __contains__(self, name: object) -> bool:
        return name in self.eager or name in self.table


class LazyGroup(TyperGroup):
    """A typer group whose table entries are imported on first use."""

    table: Mapping[str, Lazy] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(dict(self.commands), self.table)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands[cmd_name] if cmd_name in self.commands else None

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The listing from the table: help lines without importing the commands."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        commands: _Commands = self.commands  # type: ignore[assignment]
        rows = []
        for name in names:
            if name in commands.eager:
                cmd = commands.eager[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(limit)))
            else:
                rows.append((name, self.table[name].help))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def lazy_group(table: Mapping[str, Lazy]) -> type[LazyGroup]:
    """A `LazyGroup` class over this table (typer instantiates the class itself)."""
    return type("LazyGroup", (LazyGroup,), {"table": table})
