"""The commit, branch and dirty flag of the spec folder from one `git status` (no
gitpython): what a memo's recorded git position is compared with."""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: TID251 - fixed argv, no shell
from pathlib import Path
from typing import Any

OUTSIDE: dict[str, Any] = {"commit": None, "branch": None, "dirty": False}


def may_be_in_repo(directory: Path) -> bool:
    """Whether a `.git` exists in `directory` or above it (or GIT_DIR names one): when
    not, git need not be asked at all."""
    if os.environ.get("GIT_DIR"):
        return True
    here = directory.absolute()
    return any((p / ".git").exists() for p in (here, *here.parents))


def git_position(directory: Path) -> dict[str, Any] | None:
    """`{"commit", "branch", "dirty"}` as a plan records it, or None when git cannot
    answer (then the memo is not used)."""
    if not may_be_in_repo(directory):
        return dict(OUTSIDE)
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all",
             "--", "."], cwd=directory, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    commit = branch = None
    dirty = False
    for field in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if field.startswith("# branch.oid "):
            oid = field.removeprefix("# branch.oid ")
            commit = None if oid == "(initial)" else oid
        elif field.startswith("# branch.head "):
            head = field.removeprefix("# branch.head ")
            branch = None if head == "(detached)" else head
        elif field[:2] in ("1 ", "2 ", "u ", "? "):
            dirty = True
    return {"commit": commit, "branch": branch, "dirty": dirty}
