"""Render templates with the real Ansible: ansible-playbook, the template module, local.

`render_with_ansible(cases, workdir)` writes each case's template source to a file and
one playbook with one `template` task per case (its variables in the task's `vars`), runs
`ansible-playbook` once against `localhost` with the local connection, and returns the
bytes each task wrote. Everything Ansible keeps (its home, temp folders, config) lives
under `workdir`; nothing outside is read or changed. Tests skip when ansible-core is not
installed (it is a dev dependency).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

RUN_LIMIT = 300.0  # seconds one playbook run may take


def ansible_playbook() -> Path | None:
    """The ansible-playbook next to this interpreter, or on PATH; None when missing."""
    here = Path(sys.executable).parent / "ansible-playbook"
    if here.exists():
        return here
    found = shutil.which("ansible-playbook")
    return Path(found) if found else None


class AnsibleFailed(RuntimeError):
    """ansible-playbook exited non-zero; the message carries its output's tail."""


def render_with_ansible(cases: Sequence[tuple[str, Mapping[str, Any]]],
                        workdir: Path) -> list[bytes]:
    """The bytes Ansible's template module writes for each (source, variables) case."""
    exe = ansible_playbook()
    if exe is None:
        raise AnsibleFailed("ansible-playbook is not installed")
    src, out = workdir / "templates", workdir / "out"
    src.mkdir(parents=True, exist_ok=True)
    out.mkdir(exist_ok=True)
    tasks = []
    for i, (source, variables) in enumerate(cases):
        (src / f"case{i}.j2").write_bytes(source.encode("utf-8"))
        tasks.append({"name": f"case{i}", "ansible.builtin.template": {
            "src": str(src / f"case{i}.j2"), "dest": str(out / f"case{i}")},
            "vars": dict(variables)})
    playbook = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
                 "tasks": tasks}]
    (workdir / "playbook.yml").write_text(json.dumps(playbook, indent=1))  # JSON is YAML
    (workdir / "ansible.cfg").write_text("[defaults]\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"), "ANSIBLE_HOME": str(workdir / "home"),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"), "ANSIBLE_REMOTE_TEMP": str(workdir / "rtmp"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    }
    proc = subprocess.run(
        [str(exe), "-i", "localhost,", "-e",
         json.dumps({"ansible_python_interpreter": sys.executable}),
         str(workdir / "playbook.yml")],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_LIMIT, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise AnsibleFailed(f"ansible-playbook exited {proc.returncode}:\n{tail}")
    return [(out / f"case{i}").read_bytes() for i in range(len(cases))]
