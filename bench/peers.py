"""Puppet and Ansible on the same files: manifests and playbooks from the estate generator.

Each managed file of each server (the patch jars and both config files, exactly what
`Estate.managed` lists) becomes one Puppet `file` resource or one item of an Ansible
`copy` loop, with the patch folders as directories; jars come from the patched golden
home (`source`/`src`), the config files as inline content. `ensure_installed` installs
the peers when missing: Debian's `puppet` with apt-get, `ansible-core` with pip into
this interpreter's environment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.estate import Estate

PUPPET = "/usr/bin/puppet"


def ansible_playbook() -> Path:
    return Path(sys.executable).parent / "ansible-playbook"


def ensure_installed() -> list[str]:
    """Install the missing peers; returns a line per peer that is still unavailable."""
    missing = []
    if not Path(PUPPET).exists() and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "puppet"], check=False,
                       capture_output=True, env={"DEBIAN_FRONTEND": "noninteractive",
                                                 "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    if not Path(PUPPET).exists():
        missing.append("puppet (apt-get install puppet failed)")
    if not ansible_playbook().exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "ansible-core"],
                       check=False, capture_output=True)
    if not ansible_playbook().exists():
        missing.append("ansible-core (pip install failed)")
    return missing


def _items(estate: Estate) -> list[tuple[Path, str | None, str | None, bool]]:
    """(destination, content, source, is_dir) for every managed path of the estate."""
    golden = estate.golden
    out: list[tuple[Path, str | None, str | None, bool]] = []
    for i, home in enumerate(estate.homes):
        dirs: set[Path] = set()
        for rel, data in estate.managed(i).items():
            dest = home / rel
            if rel.endswith(".jar"):
                if dest.parent not in dirs:
                    dirs.add(dest.parent)
                    out.append((dest.parent, None, None, True))
                out.append((dest, None, str(golden / rel), False))
            else:
                out.append((dest, data.decode(), None, False))
    return out


def puppet_manifest(estate: Estate, out: Path) -> Path:
    """One `file` resource per managed file (and patch folder) of the estate."""
    lines = []
    for dest, content, source, is_dir in _items(estate):
        if is_dir:
            lines.append(f"file {{ {json.dumps(str(dest))}: ensure => directory }}\n")
        elif source is not None:
            lines.append(f"file {{ {json.dumps(str(dest))}: ensure => file, "
                         f"source => {json.dumps(source)} }}\n")
        else:
            lines.append(f"file {{ {json.dumps(str(dest))}: ensure => file, "
                         f"content => {json.dumps(content)} }}\n")
    out.write_text("".join(lines))
    return out


def ansible_playbook_file(estate: Estate, out: Path) -> Path:
    """A local play: the patch folders, then one `copy` per managed file, in loops."""
    items = _items(estate)
    dirs = [str(d) for d, _c, _s, is_dir in items if is_dir]
    files = [{"dest": str(d), **({"src": s} if s else {"content": c})}
             for d, c, s, is_dir in items if not is_dir]
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": [
                 {"name": "patch folders", "ansible.builtin.file":
                  {"path": "{{ item }}", "state": "directory"}, "loop": dirs},
                 {"name": "managed files", "ansible.builtin.copy":
                  {"dest": "{{ item.dest }}", "src": "{{ item.src | default(omit) }}",
                   "content": "{{ item.content | default(omit) }}"}, "loop": files,
                  "loop_control": {"label": "{{ item.dest }}"}}]}]
    out.write_text(json.dumps(play))  # JSON is YAML
    return out


def puppet_argv(manifest: Path, *, noop: bool, vardir: Path) -> list[str]:
    argv = [PUPPET, "apply", "--detailed-exitcodes", f"--vardir={vardir}",
            f"--confdir={vardir}/conf", f"--codedir={vardir}/code", "--logdest=console",
            str(manifest)]
    return argv[:2] + ["--noop"] + argv[2:] if noop else argv


def ansible_argv(playbook: Path, *, check: bool) -> list[str]:
    argv = [str(ansible_playbook()), "-i", "localhost,", "-e",
            f"ansible_python_interpreter={sys.executable}", str(playbook)]
    return argv + ["--check"] if check else argv


PUPPET_OK = (0, 2)  # --detailed-exitcodes: 2 means changes were (or would be) made
