"""The pure core does no I/O and never reads the clock (DESIGN §2), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = sorted(
    [ROOT / "engine" / "diff.py", ROOT / "engine" / "graph.py", *ROOT.glob("engine/contracts/*.py"),
     ROOT / "engine" / "specdiff.py", ROOT / "engine" / "drills_status.py",
     *ROOT.glob("engine/retention*.py"), *ROOT.glob("engine/render/*.py"),
     *ROOT.glob("engine/planners/*.py"), *ROOT.glob("engine/desired/*.py"),
     *[p for p in ROOT.glob("engine/spec/*.py") if p.name != "loader.py"]])
BANNED_MODULES = {"subprocess", "shutil", "socket", "boto3", "botocore", "psycopg", "pymysql",
                  "urllib", "requests", "sqlite3", "tempfile", "providers", "state.local",
                  "state.s3", "git"}
BANNED_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir",
                "unlink", "rmdir", "iterdir", "glob", "rglob", "stat", "exists", "is_file",
                "is_dir", "now", "utcnow", "today", "time", "monotonic", "getenv", "system",
                "popen", "listdir", "walk", "remove"}


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""]
            for name in names:
                if any(name == b or name.startswith(b + ".") for b in BANNED_MODULES):
                    found.append(f"{path.name}:{node.lineno}: imports {name}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in BANNED_CALLS:
                found.append(f"{path.name}:{node.lineno}: calls {name}()")
        elif isinstance(node, ast.Attribute) and node.attr == "environ":
            found.append(f"{path.name}:{node.lineno}: reads os.environ")
    return found


def test_there_is_a_pure_core_to_check() -> None:
    assert len(PURE) > 20


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    assert _problems(path) == []


def test_the_engine_never_imports_a_concrete_provider() -> None:
    """Only the command line (the composition root) wires concrete providers in."""
    offenders = []
    for path in sorted(ROOT.glob("engine/**/*.py")):
        if "commands" in path.parts or path.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("providers"):
                if node.module != "engine.contracts.provider":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}")
    assert offenders == []
