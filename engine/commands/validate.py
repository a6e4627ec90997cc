"""`drydock validate`: check environments and report every problem as text, JSON or
GitHub Actions annotations.

Paths may be environment folders or files inside them (what pre-commit passes); each
folder is checked once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.common import print_json
from engine.spec.errors import one_line


class ValidateFormat(StrEnum):
    """How validate reports."""

    text = "text"
    json = "json"
    github = "github"


@dataclass(frozen=True)
class Problem:
    """One problem at a file position."""

    file: str
    line: int
    col: int
    message: str


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one environment folder."""

    folder: Path
    problems: tuple[Problem, ...]
    summary: str = ""


def folders(paths: list[str] | None) -> list[Path]:
    """The environment folders named by `paths` (a file stands for its folder), in order,
    each once; the current directory when none is given."""
    out: list[Path] = []
    for raw in paths or ["."]:
        path = Path(raw)
        folder = path.parent if path.is_file() else path
        if folder not in out:
            out.append(folder)
    return out


def check(folder: Path) -> Checked:
    """Load and build one environment; its problems, or a one-line summary when valid."""
    from engine.desired import build_desired
    from engine.desired.servers import DesiredStateError
    from engine.spec.errors import SpecError
    from engine.spec.loader import load_spec

    try:
        spec = load_spec(folder)
        build_desired(spec)
    except SpecError as exc:
        return Checked(folder, tuple(Problem(i.file, i.line, i.col, i.message)
                                     for i in exc.issues))
    except DesiredStateError as exc:
        return Checked(folder, (Problem(str(folder), 1, 1, str(exc)),))
    env = spec.env
    n = len(env.servers) + len(env.databases) + len(env.backups) + len(env.drills)
    return Checked(folder, (), f"{env.environment}: {len(spec.files)} file(s), {n} resources, "
                               "valid.")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem) -> str:
    """One problem as a GitHub Actions workflow command, e.g.
    `::error file=specs/prod/servers.yaml,line=12,col=5::update_level: ...`."""
    return (f"::error file={_escape_property(problem.file)},line={problem.line},"
            f"col={problem.col},title=drydock validate::{_escape_data(problem.message)}")


def validate(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Environment folders, or files in them (default: the current folder).")] = None,
    fmt: Annotated[ValidateFormat, typer.Option(
        "--format", help="text, json, or github (workflow annotations on stdout).")
    ] = ValidateFormat.text,
) -> None:
    """Check environments' specs; every problem is printed as FILE:LINE:COL: message.

    Every format writes its results (the problems, or each folder's verdict) on stdout and
    any advice on stderr; exit 1 when any problem is found.

    Examples:
      drydock validate specs/demo
      drydock validate specs/prod --format json    (for editors and tools)
      drydock validate specs/prod --format github  (annotations on the pull request's files)
      drydock validate specs/prod/servers.yaml specs/stage/data.yaml   (as pre-commit does)
    """
    results = [check(folder) for folder in folders(paths)]
    problems = [p for r in results for p in r.problems]
    if fmt is ValidateFormat.json:
        print_json({"valid": not problems, "problems": [
            {"file": p.file, "line": p.line, "col": p.col, "message": p.message}
            for p in problems]})
    elif fmt is ValidateFormat.github:
        sys.stdout.write("".join(github_annotation(p) + "\n" for p in problems))
        for r in results:
            if not r.problems:
                print(r.summary, file=sys.stderr)
    else:
        for r in results:  # verdicts and problems are results (stdout); the advice is a log
            for p in r.problems:
                print(one_line(f"{p.file}:{p.line}:{p.col}: {p.message}"))
            if r.problems:
                print(f"error: {len(r.problems)} problem(s) in {r.folder}; fix them and run "
                      "'drydock validate' again", file=sys.stderr)
            else:
                print(r.summary)
    sys.stdout.flush()
    if problems:
        raise typer.Exit(1)
