"""Apply progress on stderr: a rich progress bar on a terminal, plain lines elsewhere
(rich's progress bar is imported only on a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.apply import ActionReport, Callbacks
from engine.commands.common import err, stderr_is_terminal
from engine.contracts.models import Action

MARKS = {"ok": "✓", "failed": "✗", "skipped": "-"}


@contextmanager
def apply_progress(total: int) -> Iterator[Callbacks]:
    """Callbacks that show each action's start and result while an apply runs."""
    if stderr_is_terminal():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err.rich(), transient=False) as bar:
            task = bar.add_task("applying", total=total)

            def on_report(r: ActionReport) -> None:
                colour = {"ok": "green", "failed": "red", "skipped": "yellow"}[r.status]
                prefix = "  ↺ " if r.compensation_of else "  "
                bar.console.print(f"{prefix}[{colour}]{MARKS[r.status]}[/] {r.id}  {r.message}",
                                  markup=True, highlight=False)
                if r.compensation_of is None:
                    bar.advance(task)

            def on_start(a: Action) -> None:
                bar.update(task, description=f"{a.type} {a.address}")

            yield Callbacks(on_start=on_start, on_report=on_report)
        return

    def plain(r: ActionReport) -> None:
        prefix = "  compensate " if r.compensation_of else "  "
        print(f"{prefix}{MARKS[r.status]} {r.id}  {r.message}", file=sys.stderr, flush=True)

    yield Callbacks(on_report=plain)


@contextmanager
def refresh_progress() -> Iterator[Callable[[str, int], None]]:
    """A callback showing refresh progress as a bar on a terminal; silent elsewhere."""
    if not stderr_is_terminal():
        yield lambda _address, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("refreshing {task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err.rich(),
                  transient=True) as bar:
        task = bar.add_task("", total=None)

        def advance(address: str, total: int) -> None:
            bar.update(task, total=total, advance=1, description=address)

        yield advance


@contextmanager
def status(text: str) -> Iterator[None]:
    """A spinner with `text` on stderr while a long read runs (a terminal only)."""
    if not stderr_is_terminal():
        yield
        return
    with err.status(text):
        yield
