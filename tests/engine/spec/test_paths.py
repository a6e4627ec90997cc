"""Untrusted paths in a spec (DESIGN §5): refused at load time, FILE:LINE:COL, nothing read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.spec.errors import SpecError
from engine.spec.loader import load_spec
from engine.spec.parse import SourceFile, parse_environment
from engine.spec.paths import relative_path_problem

ENV = """\
environment: t
sites: {primary: {}}
hosts:
  node-a: {site: primary, root: /srv/a}
  node-b: {site: primary, root: /srv/b}
products:
  p-1.0: {pack: /p.zip}
"""


def server(name: str, home: str = "opt/x", host: str = "node-a", config: str = "") -> str:
    return (f"  {name}:\n    host: {host}\n    product: p-1.0\n    home: {home}\n"
            + (f"    config:\n{config}" if config else ""))


def issues(*servers: str) -> list[str]:
    text = ENV + "servers:\n" + "".join(servers)
    with pytest.raises(SpecError) as info:
        parse_environment([SourceFile("s.yaml", text)])
    return [str(i) for i in info.value.issues]


@pytest.mark.parametrize("key", ["../../../../x", "/proc/self/environ", "a/../../b",
                                 "repository\\conf\\x", "a\x00b", "./a", "a//b", ""])
def test_config_keys_that_leave_the_home_are_refused(key: str) -> None:
    quoted = key.replace("\\", "\\\\").replace("\x00", "\\0")
    found = issues(server("gw-1", config=f'      "{quoted}": {{content: "x"}}\n'))
    assert len(found) == 1
    assert found[0].startswith("s.yaml:14:7: config file"), found


@pytest.mark.parametrize("home, why", [
    ("/etc", "must be relative"), ("../../etc", "'..' is not allowed"),
    ("opt/../../etc", "'..' is not allowed"), ("''", "must not be empty"),
    (".", "empty or '.' part"), (".drydock/x", "drydock's own folder"),
])
def test_homes_that_leave_the_host_root_are_refused(home: str, why: str) -> None:
    found = issues(server("gw-1", home=home))
    assert len(found) == 1 and found[0].startswith("s.yaml:12:11: ") and why in found[0], found


def test_two_servers_may_not_share_a_home() -> None:
    assert issues(server("gw-1", "opt/a"), server("gw-2", "opt/a")) == [
        "s.yaml:16:11: home 'opt/a' on host node-a is also server gw-1's home"]


def test_homes_may_not_nest_either_way() -> None:
    inner_after = issues(server("gw-1", "opt/a"), server("gw-2", "opt/a/b"))
    assert inner_after == ["s.yaml:16:11: home 'opt/a/b' on host node-a is inside server "
                           "gw-1's home 'opt/a'; homes of one host must not nest"]
    outer_after = issues(server("gw-1", "opt/a/b"), server("gw-2", "opt/a"))
    assert outer_after == ["s.yaml:16:11: home 'opt/a' on host node-a holds server gw-1's "
                           "home; homes of one host must not nest"]


def test_same_home_on_two_hosts_and_sibling_prefixes_are_fine() -> None:
    text = ENV + "servers:\n" + server("gw-1", "opt/a") + server("gw-2", "opt/a", "node-b") + \
        server("gw-3", "opt/ab")
    env = parse_environment([SourceFile("s.yaml", text)])
    assert set(env.servers) == {"gw-1", "gw-2", "gw-3"}


def test_relative_path_problem_accepts_plain_paths() -> None:
    assert relative_path_problem("repository/conf/deployment.toml", "config file") is None
    assert relative_path_problem("C:/x", "home") is not None


def write_spec(folder: Path, template: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "env.yaml").write_text(
        ENV + "servers:\n" + server("gw-1", config=(
            "      repository/conf/deployment.toml:\n"
            f"        template: {template}\n")))
    return folder


def load_issues(folder: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(folder)
    return [str(i) for i in info.value.issues]


def test_template_outside_the_spec_folder_is_refused_before_reading(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("TOKEN=hunter2\n")
    spec = write_spec(tmp_path / "spec", "../secret.txt")
    [line] = load_issues(spec)
    assert line.endswith("env.yaml:15:19: template '../secret.txt' resolves outside the spec "
                         "folder; templates must live inside it")
    assert "hunter2" not in line


def test_absolute_template_and_proc_environ_are_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", "/proc/self/environ")
    [line] = load_issues(spec)
    assert "resolves outside the spec folder" in line


def test_template_symlink_out_of_the_spec_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.j2").write_text("secret\n")
    spec = write_spec(tmp_path / "spec", "templates/t.j2")
    (spec / "templates").mkdir()
    (spec / "templates" / "t.j2").symlink_to(tmp_path / "outside.j2")
    [line] = load_issues(spec)
    assert "'templates/t.j2' resolves outside the spec folder" in line


def test_template_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", "t.j2")
    os.mkfifo(spec / "t.j2")
    [line] = load_issues(spec)
    assert line.endswith("template t.j2 is not a regular file")


def test_template_inside_through_dotdot_and_symlink_is_fine(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec", "templates/../shared/t.j2")
    (spec / "shared").mkdir()
    (spec / "shared" / "t.j2").write_text("x = 1\n")
    (spec / "templates").mkdir()
    loaded = load_spec(spec)
    assert loaded.templates == {"templates/../shared/t.j2": "x = 1\n"}


def test_spec_file_linking_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text("environment: x\n")
    spec = write_spec(tmp_path / "spec", "t.j2")
    (spec / "t.j2").write_text("")
    (spec / "other.yaml").symlink_to(tmp_path / "outside.yaml")
    [line] = load_issues(spec)
    assert line.endswith("other.yaml:1:1: cannot read: it links outside the spec folder")
