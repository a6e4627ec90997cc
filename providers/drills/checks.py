"""The checks a drill runs on restored data: SQL comparisons, file checksums, commands.

- `sql` + `expect`: the first value of the query on the scratch database must satisfy
  the comparison (`>= 1`, `== 3`, `!= 0`, `< 10`).
- `files`: every regular file the snapshot's tar holds under the listed paths must be in
  the restored folder with the same sha256 as the tar entry (missing paths fail).
- `command`: an argument list (no shell) run in the restored folder must exit 0; a
  program named with a `/` is relative to that folder.

A check that cannot run fails with the reason; it never stops the other checks. Files
are hashed and commands run on the host of the restored folder, through its transport.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from engine.contracts.drills import CheckResult
from engine.spec.data import DrillCheck, parse_expect
from providers.databases.errors import DatabaseError
from providers.drills.scratch import Scratch, ScratchDatabase, ScratchDirectory
from providers.hosts.paths import inside, is_file
from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.restore.snapshots import tar_members
from safefs.pathsafety import UnsafePathError

SHOWN = 3


def check_sql(check: DrillCheck, scratch: Scratch) -> CheckResult:
    """Run the query and compare its first value with `expect`."""
    if not isinstance(scratch, ScratchDatabase):
        return CheckResult(check=check.describe(), passed=False,
                           detail="an sql check needs a restored database")
    expect = parse_expect(check.expect or "")
    value = scratch.query(check.sql or "")
    return CheckResult(check=check.describe(), passed=expect.holds(value),
                       detail=f"got {value!r}, expected {expect}")


def check_files(check: DrillCheck, scratch: Scratch, repo: Repository, series: str,
                snapshot_id: str) -> CheckResult:
    """Compare restored files with the snapshot's tar entries, byte for byte (sha256)."""
    if not isinstance(scratch, ScratchDirectory):
        return CheckResult(check=check.describe(), passed=False,
                           detail="a files check needs a restored folder")
    wanted = list(check.files or [])
    members = tar_members(repo, series, snapshot_id, wanted)
    problems = []
    for path in wanted:
        if not any(n == path or n.startswith(path.rstrip("/") + "/") for n in members):
            problems.append(f"{path} is not in the snapshot")
    for name, member in sorted(members.items()):
        try:
            restored = inside(scratch.t, scratch.path, name, what="restored file")
        except UnsafePathError as exc:
            problems.append(str(exc))
            continue
        if not is_file(scratch.t, restored):
            problems.append(f"{name} is missing after the restore")
        elif scratch.t.sha256(restored) != "sha256:" + member.sha256:
            problems.append(f"{name} differs from the snapshot")
    if problems:
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        return CheckResult(check=check.describe(), passed=False,
                           detail="; ".join(problems[:SHOWN]) + more)
    return CheckResult(check=check.describe(), passed=True,
                       detail=f"{len(members)} file(s) match the snapshot")


def check_command(check: DrillCheck, scratch: Scratch) -> CheckResult:
    """Run the command in the restored folder, on its host; it passes when it exits 0."""
    if not isinstance(scratch, ScratchDirectory):
        return CheckResult(check=check.describe(), passed=False,
                           detail="a command check needs a restored folder")
    argv = list(check.command or [])
    if "/" in argv[0] and not PurePosixPath(argv[0]).is_absolute():
        argv[0] = str(scratch.path / argv[0])
    result = scratch.t.run(argv, cwd=scratch.path, timeout=check.timeout.total_seconds())
    lines = (result.stderr or result.stdout).strip().splitlines()
    detail = f"exit {result.returncode}" + (f": {lines[-1][:200]}" if lines else "")
    return CheckResult(check=check.describe(), passed=result.returncode == 0, detail=detail)


def run_checks(checks: Sequence[DrillCheck], scratch: Scratch, repo: Repository, series: str,
               snapshot_id: str) -> list[CheckResult]:
    """Run every check in order; returns one result per check (failures included)."""
    out = []
    for check in checks:
        try:
            if check.kind == "sql":
                out.append(check_sql(check, scratch))
            elif check.kind == "files":
                out.append(check_files(check, scratch, repo, series, snapshot_id))
            else:
                out.append(check_command(check, scratch))
        except (DatabaseError, RepositoryError, OSError, ValueError) as exc:
            out.append(CheckResult(check=check.describe(), passed=False,
                                   detail=str(exc).splitlines()[0][:300]))
    return out
