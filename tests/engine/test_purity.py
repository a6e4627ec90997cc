"""The pure core does no I/O and never reads the clock (DESIGN §2), checked on the source.

The pure core is derived, not listed: every module under engine/ except the I/O shell
(the commands, the operations, and the few modules that walk, refresh, record, open a
workspace, wire providers, read git, the clock, secrets or spec files). A new module is
pure unless it joins the shell, and the lint exemptions in pyproject.toml must name
exactly that shell.
"""

from __future__ import annotations

import ast
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHELL_FOLDERS = ("engine/commands", "engine/operations", "engine/plan_memo")
SHELL_MODULES = ("engine/cli.py", "engine/__main__.py", "engine/apply.py", "engine/refresh.py",
                 "engine/recorder.py", "engine/workspace.py", "engine/wiring.py",
                 "engine/wiring_memo.py",
                 "engine/gitinfo.py", "engine/clock.py", "engine/secrets.py",
                 "engine/killpoints.py",
                 "engine/spec/loader.py", "engine/spec/sources.py")
PURE_FOLDERS = ("engine/contracts", "engine/spec", "engine/desired", "engine/planners",
                "engine/render")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _in_shell(path: Path) -> bool:
    rel = _rel(path)
    return rel in SHELL_MODULES or any(rel.startswith(f + "/") for f in SHELL_FOLDERS)


PURE = sorted(p for p in ROOT.glob("engine/**/*.py") if not _in_shell(p))
BANNED_MODULES = {"os", "io", "subprocess", "shutil", "socket", "tempfile", "zipfile", "tarfile",
                  "sqlite3", "psycopg", "pymysql", "boto3", "botocore", "urllib", "requests",
                  "git", "fcntl", "glob", "pathlib.Path", "providers", "state.local",
                  "state.s3", "state.lock", "testkit", "safefs"}
BANNED_NAMES = {"uuid.uuid4", "uuid.uuid1", "time.time", "time.monotonic", "datetime.now",
                "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.date.today"}
BANNED_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir",
                "unlink", "rmdir", "iterdir", "glob", "rglob", "stat", "lstat", "exists",
                "is_file", "is_dir", "is_symlink", "resolve", "scandir", "now", "utcnow",
                "today", "time", "monotonic", "getenv", "system", "popen", "listdir", "walk",
                "remove", "uuid4", "uuid1", "chmod", "rename", "replace_file", "touch"}


def _banned(name: str) -> bool:
    return any(name == b or name.startswith(b + ".") for b in BANNED_MODULES | BANNED_NAMES)


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = []
        for name in names:
            if _banned(name):
                found.append(f"{_rel(path)}:{node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            # a bare `resolve(ref)` is a callback, `x.resolve()` is Path.resolve
            if name in BANNED_CALLS and (isinstance(func, ast.Attribute) or name != "resolve"):
                found.append(f"{_rel(path)}:{node.lineno}: calls {name}()")
        elif isinstance(node, ast.Attribute) and node.attr in ("environ", "scandir"):
            found.append(f"{_rel(path)}:{node.lineno}: uses {node.attr}")
    return found


def test_the_pure_core_is_every_engine_module_outside_the_shell() -> None:
    pure = {_rel(p) for p in PURE}
    for folder in PURE_FOLDERS:
        modules = {_rel(p) for p in ROOT.glob(f"{folder}/**/*.py")} - set(SHELL_MODULES)
        assert modules and modules <= pure, folder
    assert {"engine/diff.py", "engine/graph.py", "engine/retention.py"} <= pure
    assert not any(_in_shell(ROOT / p) for p in pure)


def test_a_new_module_in_a_pure_folder_is_covered(tmp_path: Path) -> None:
    assert not _in_shell(ROOT / "engine/planners/restore/new_module.py")
    assert not _in_shell(ROOT / "engine/brand_new.py")
    assert _in_shell(ROOT / "engine/commands/new_command.py")


def test_the_checker_catches_aliases_scandir_resolve_and_uuid4(tmp_path: Path) -> None:
    sample = ROOT / "engine" / "_purity_sample.py"
    source = ("import os as o\nimport zipfile\nfrom uuid import uuid4\nfrom pathlib import Path\n"
              "o.scandir('.')\nPath('x').resolve()\nuuid4()\n")
    sample.write_text(source, encoding="utf-8")
    try:
        problems = "\n".join(_problems(sample))
    finally:
        sample.unlink()
    for needle in ("imports os", "imports zipfile", "imports uuid.uuid4", "calls scandir()",
                   "calls resolve()", "calls uuid4()"):
        assert needle in problems


def test_lint_exempts_exactly_the_shell_from_the_io_ban() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ignores = config["tool"]["ruff"]["lint"]["per-file-ignores"]
    exempt = [pattern for pattern, codes in ignores.items()
              if "TID251" in codes and pattern.startswith("engine/")]
    expanded: list[str] = []
    for pattern in exempt:
        if "{" in pattern:
            head, _, rest = pattern.partition("{")
            names, _, tail = rest.partition("}")
            expanded += [f"{head}{n}{tail}" for n in names.split(",")]
        else:
            expanded.append(pattern)
    for path in ROOT.glob("engine/**/*.py"):
        assert any(fnmatch(_rel(path), p) for p in expanded) == _in_shell(path), _rel(path)
    banned = config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"]
    assert {"os", "subprocess", "shutil", "zipfile", "tarfile", "uuid.uuid4",
            "datetime.datetime.now", "time.time", "boto3"} <= set(banned)


@pytest.mark.parametrize("path", PURE, ids=_rel)
def test_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    assert _problems(path) == []
