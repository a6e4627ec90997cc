"""No module above the transport touches a host's files or processes by itself.

The rule (DESIGN §6 "Hosts and transports"): everything a provider does to a server's
home, a host's folders or its processes goes through `providers.hosts.base.Transport`,
so the same code runs on `local` and `ssh` hosts. Checked here on the source (ast) of
every module of the packages that work on hosts: the product layout, restores, drills,
backups and server-path backup sources. Such a module must not

- import `os`, `shutil`, `subprocess`, `tempfile`, `glob` or `fcntl`;
- import a concrete transport (`providers.hosts.local`, `providers.hosts.ssh`): it gets
  the host's transport from the run's pool (`providers.hosts.pool.HostPool`);
- call the builtin `open`;
- call a `pathlib.Path` file method (`read_text`, `iterdir`, `exists`, `mkdir`, `stat`,
  `rename`, …) on anything but a transport. By house convention a transport is held in
  a variable or attribute named `t`, `transport`, `inner` or `controller`; stream modules
  (`tarfile`) may `open` the file objects they are handed.

Paths named in these modules are `PurePosixPath`s (no file methods at all) or controller
paths handed to the controller-side readers listed in `CONTROLLER_SIDE` below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HOST_SIDE_PACKAGES = ("providers/product", "providers/restore", "providers/drills",
                      "providers/backups")
HOST_SIDE_MODULES = ("providers/backup_sources.py",)
CONTROLLER_SIDE = {
    "providers/product/archive.py":
        "reads packs, update packages and patch archives where drydock runs (and extracts "
        "them for the test kit's reference homes)",
    "providers/product/artifact_files.py":
        "stats and lists the artifact folders of the spec, where drydock runs",
    "providers/product/ziptar.py":
        "reads those archives on the controller to stream their members to a host as tar",
    "providers/drills/report.py":
        "drill reports are files beside the environment on the controller",
}
BANNED_IMPORTS = {"os", "shutil", "subprocess", "tempfile", "glob", "fcntl",
                  "providers.hosts.local", "providers.hosts.ssh"}
FILE_METHODS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "mkdir",
                "unlink", "rmdir", "iterdir", "glob", "rglob", "stat", "lstat", "exists",
                "is_file", "is_dir", "is_symlink", "resolve", "readlink", "symlink_to",
                "hardlink_to", "rename", "chmod", "touch", "samefile", "walk", "scandir",
                "listdir", "remove", "rmtree", "copy", "copy2", "copytree", "link"}
TRANSPORT_NAMES = {"t", "transport", "inner", "controller"}
STREAM_MODULES = {"tarfile"}


def _modules() -> list[Path]:
    found = [p for pkg in HOST_SIDE_PACKAGES for p in (ROOT / pkg).glob("*.py")]
    found += [ROOT / m for m in HOST_SIDE_MODULES]
    return sorted(p for p in found if p.relative_to(ROOT).as_posix() not in CONTROLLER_SIDE)


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def problems(source: str, name: str = "module") -> list[str]:
    """One line per place where `source` touches files or processes itself."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""]
            out += [f"{name}:{node.lineno}: imports {n}" for n in names
                    if any(n == b or n.startswith(b + ".") for b in BANNED_IMPORTS)]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                out.append(f"{name}:{node.lineno}: calls open()")
            elif isinstance(func, ast.Attribute) and func.attr in FILE_METHODS:
                owner = _receiver(func.value)
                if owner not in TRANSPORT_NAMES and owner not in STREAM_MODULES:
                    out.append(f"{name}:{node.lineno}: calls {owner or '(…)'}.{func.attr}() "
                               "outside a transport")
    return out


def test_the_rule_covers_the_host_side_packages() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"providers/product/updates.py", "providers/product/install.py",
            "providers/restore/actions.py", "providers/drills/scratch.py",
            "providers/backup_sources.py"} <= names
    assert all((ROOT / m).is_file() for m in CONTROLLER_SIDE)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_touches_hosts_only_through_their_transport(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize("code, found", [
    ("import shutil\nshutil.rmtree(home)\n", "imports shutil"),
    ("from subprocess import run\n", "imports subprocess"),
    ("from providers.hosts.local import LocalTransport\n", "imports providers.hosts.local"),
    ("data = open(path).read()\n", "calls open()"),
    ("text = (home / 'x').read_text()\n", "calls (…).read_text() outside a transport"),
    ("if home.is_dir():\n    pass\n", "calls home.is_dir() outside a transport"),
    ("staged.rename(target)\n", "calls staged.rename() outside a transport"),
])
def test_the_check_finds_direct_file_access(code: str, found: str) -> None:
    assert any(found in line for line in problems(code))


def test_the_check_accepts_transport_calls_and_tar_streams() -> None:
    code = ("t.rename(a, b)\nself.t.stat(p)\ntransport.mkdir(p)\n"
            "tarfile.open(fileobj=sink, mode='w|')\nis_dir(t, home)\n")
    assert problems(code) == []
