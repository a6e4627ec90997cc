"""The command table: `--help`/`--version` import no command, each command only its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.cli import COMMANDS
from engine.commands.lazy import _load

HEAVY = ("engine.commands.core", "engine.commands.backups", "engine.commands.state_cmds",
         "engine.commands.forget", "engine.commands.state_migrate", "networkx", "pydantic",
         "boto3", "rich", "asyncssh", "psycopg", "jinja2", "yaml", "git")


def _modules_after(*argv: str) -> tuple[set[str], str]:
    """Run drydock ARGV in a fresh interpreter; the modules it imported and its stdout."""
    code = ("import sys\nsys.argv = ['drydock', *sys.argv[1:]]\nfrom engine.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          text=True, check=True)
    out, _, mods = done.stdout.rpartition("MODULES ")
    return set(mods.split()), out


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_command(argv: list[str]) -> None:
    modules, out = _modules_after(*argv)
    loaded = {m for m in modules for h in HEAVY if m == h or m.startswith(h + ".")}
    assert loaded == set()
    assert out.strip()


def test_help_lists_every_command_of_the_table() -> None:
    _, out = _modules_after("--help")
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines()
              if line.startswith("  ") and not line.startswith("    ")]
    assert listed == list(COMMANDS)


def test_a_sub_group_help_imports_its_lazy_sub_commands_only_when_run() -> None:
    modules, out = _modules_after("state", "--help")
    assert "engine.commands.state_cmds" in modules
    assert "engine.commands.state_migrate" not in modules
    assert "migrate" in out and "history" in out


def test_schema_does_not_import_the_backup_commands() -> None:
    modules, out = _modules_after("schema")
    assert '"properties"' in out
    assert "engine.commands.backups" not in modules


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_entry_loads_under_its_name(name: str) -> None:
    entry = COMMANDS[name]
    cmd = _load(name, entry)
    assert cmd.name == name
    for sub, sub_entry in entry.sub.items():
        assert _load(sub, sub_entry).name == sub
