"""The container image definition, checked statically: docker cannot build here, so the
Dockerfile is parsed (dockerfile-parse) and linted (hadolint), and every client binary the
providers run is checked to come from a package the image installs."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]

# Debian bookworm package -> the binaries it provides that drydock runs.
PACKAGES = {
    "postgresql-client": {"pg_dump", "pg_restore", "psql"},
    "mariadb-client": {"mariadb", "mariadb-dump", "mysql", "mysqldump"},
    "sqlite3": {"sqlite3"},
    "openssh-client": {"ssh", "ssh-keygen"},
    "git": {"git"},
    "tar": {"tar"},
}
REQUIRED = {"pg_dump", "psql", "mariadb-dump", "mariadb", "sqlite3", "ssh"}


def _parsed() -> DockerfileParser:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    parser.content = (ROOT / "Dockerfile").read_text()
    return parser


def _installed(parser: DockerfileParser) -> set[str]:
    found: set[str] = set()
    for item in parser.structure:
        if item["instruction"] == "RUN" and "apt-get install" in item["value"]:
            words = item["value"].replace("\\", " ").split()
            tail = words[words.index("install") + 1:]
            for word in tail:
                if word in ("&&", ";"):
                    break
                if not word.startswith("-"):
                    found.add(word)
    return found


def _binaries_the_providers_run() -> set[str]:
    """The argv[0] strings of the command lists under providers/ (first list element)."""
    names: set[str] = set()
    for path in (ROOT / "providers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0],
                                                                        ast.Constant):
                value = node.elts[0].value
                if isinstance(value, str) and value in set().union(*PACKAGES.values()):
                    names.add(value)
    return names


def test_the_runtime_stage_installs_every_client_drydock_runs() -> None:
    installed = _installed(_parsed())
    provided = set().union(*(PACKAGES[p] for p in installed if p in PACKAGES))
    assert REQUIRED <= provided, f"missing clients: {sorted(REQUIRED - provided)}"
    used = _binaries_the_providers_run()
    assert {"pg_dump", "mariadb-dump"} <= used  # the scan sees the providers' commands
    assert used <= provided, f"clients the providers run but the image lacks: {used - provided}"


def test_the_entry_point_is_drydock_from_the_built_wheel() -> None:
    parser = _parsed()
    instructions = [(i["instruction"], i["value"]) for i in parser.structure]
    entry = [v for k, v in instructions if k == "ENTRYPOINT"]
    assert [json.loads(e) for e in entry] == [["drydock"]]  # exec form, no shell
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "drydock" in scripts
    assert any(k == "RUN" and "pip install" in v and "/dist/*.whl" in v
               for k, v in instructions)
    assert parser.baseimage.startswith("python:3.11")
    user = [v for k, v in instructions if k == "USER"]
    assert user and user[-1] not in ("root", "0")


@pytest.mark.skipif(shutil.which("hadolint") is None and not (
    Path(__file__).parents[2] / ".venv/bin/hadolint").exists(), reason="hadolint not installed")
def test_hadolint_finds_nothing() -> None:
    exe = shutil.which("hadolint") or str(ROOT / ".venv/bin/hadolint")
    proc = subprocess.run([exe, "--no-color", str(ROOT / "Dockerfile")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
