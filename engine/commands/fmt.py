"""`drydock fmt [PATH]...`: rewrite spec files in the canonical layout, comments kept;
`--check` (for CI and pre-commit) only lists the files that would change and exits 2.

Every file is formatted in memory first: when one cannot be, none is written."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.common import fail


def spec_files(paths: list[str] | None) -> list[Path]:
    """The YAML files named: a folder stands for its `*.yaml`/`*.yml` (not recursive)."""
    out: list[Path] = []
    for raw in paths or ["."]:
        path = Path(raw)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        elif path.is_file():
            found = [path]
        else:
            fail(f"{path}: no such file or folder")
        out.extend(p for p in found if p not in out)
    return out


def fmt(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Environment folders or spec files (default: the current folder).")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Change nothing; list the files that are not formatted and exit 2 "
                        "if there are any.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show what changes as a diff.")] = False,
) -> None:
    """Rewrite spec files in the canonical YAML layout, keeping comments, key order and
    quoting. Files that change are listed on stdout.

    Examples:
      drydock fmt specs/prod
      drydock fmt --check specs/        (in CI: exit 2 when a file needs formatting)
      drydock fmt --check --diff specs/prod/servers.yaml
    """
    from engine.spec.canonical import FormatError, canonical_yaml
    from safefs.atomicfile import write_atomic

    changed: list[tuple[Path, str]] = []
    problems = 0
    for path in spec_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
            formatted = canonical_yaml(str(path), text)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{path}:1:1: cannot read: {exc}", file=sys.stderr)
            problems += 1
            continue
        except FormatError as exc:
            print(str(exc.issue), file=sys.stderr)
            problems += 1
            continue
        if formatted == text:
            continue
        changed.append((path, formatted))
        print(path, flush=True)
        if diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(True), formatted.splitlines(True), f"{path} (now)",
                f"{path} (formatted)"))
    if problems:
        print(f"error: {problems} file(s) cannot be formatted; nothing was changed",
              file=sys.stderr)
        raise typer.Exit(1)
    for path, formatted in [] if check else changed:
        write_atomic(path, formatted.encode("utf-8"), mode=path.stat().st_mode & 0o777)
    if check and changed:
        print(f"{len(changed)} file(s) need formatting; run: drydock fmt "
              + " ".join(paths or ["."]), file=sys.stderr)
        raise typer.Exit(2)
