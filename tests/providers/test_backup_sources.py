"""Paths backups into a real local repository and safe restores out of it."""

from __future__ import annotations

import io
import os
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest

from providers.backup_sources import PathsError, backup_paths, restore_paths
from providers.hosts.local import LocalTransport
from providers.repositories.base import IntegrityError, PartSource
from providers.repositories.local import LocalRepository
from providers.repositories.manifest import SnapshotFields, SnapshotSource, new_snapshot_id

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

NOW = datetime(2026, 11, 25, 17, 2, 33, tzinfo=UTC)
DECLARED = ["repository/conf", "repository/components/patches", "updates"]


def fields() -> SnapshotFields:
    return SnapshotFields(
        source=SnapshotSource(kind="server", address="server.gw-1",
                              facts={"update_level": 14, "patches": ["patch0005"]}),
        created=NOW,
    )


def make_home(home: Path) -> None:
    conf = home / "repository" / "conf"
    conf.mkdir(parents=True)
    (conf / "deployment.toml").write_text("[server]\noffset = 0\n")
    (conf / "secret.key").write_bytes(os.urandom(4096))
    (conf / "secret.key").chmod(0o600)
    run = home / "bin" / "run.sh"
    run.parent.mkdir()
    run.write_text("#!/bin/sh\n")
    patches = home / "repository" / "components" / "patches" / "patch0005"
    patches.mkdir(parents=True)
    (patches / "fix.jar").write_bytes(b"PK" + os.urandom(70_000))
    (home / "updates").mkdir()
    (home / "updates" / "config.json").write_text('{"update-level": 14}')
    (conf / "current.toml").symlink_to("deployment.toml")
    (conf / "absolute-inside").symlink_to(home / "bin" / "run.sh")


def snapshot_of(tmp_path: Path, home: Path) -> tuple[LocalRepository, str, list[str]]:
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id = new_snapshot_id(NOW)
    result = backup_paths(repo, "gw-1-runtime", snapshot_id, T, home, DECLARED, fields())
    return repo, snapshot_id, list(result.warnings)


def tree(root: Path) -> dict[str, object]:
    """Every entry under root with what it is: file bytes + mode, link text, or dir."""
    found: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found


def test_restore_into_a_new_root_reproduces_the_declared_paths(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    repo, snapshot_id, warnings = snapshot_of(tmp_path, home)
    assert warnings == []
    manifest = repo.get_manifest("gw-1-runtime", snapshot_id)
    assert manifest.parts[0].kind == "tar" and manifest.source.facts["update_level"] == 14
    target = tmp_path / "dr-home"
    result = restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, target)
    assert sorted(result.paths) == sorted(DECLARED)
    expected = {k: v for k, v in tree(home).items() if not k.startswith("bin")}
    expected.pop("repository/conf/absolute-inside")
    restored = tree(target)
    assert restored.pop("repository/conf/absolute-inside") == ("link", "../../bin/run.sh")
    assert restored == {**expected, "repository": "dir", "repository/components": "dir"}
    assert (target / "repository/conf/secret.key").stat().st_mode & 0o777 == 0o600
    assert not list(target.glob(".drydock-*"))


def test_links_pointing_outside_and_special_files_are_skipped_with_warnings(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    (home / "repository/conf/escape").symlink_to(tmp_path)
    (home / "repository/conf/via-dotdot").symlink_to("../../../../etc/passwd")
    os.mkfifo(home / "updates/pipe")
    repo, snapshot_id, warnings = snapshot_of(tmp_path, home)
    assert sorted(w.split(":")[0] for w in warnings) == [
        "repository/conf/escape", "repository/conf/via-dotdot", "updates/pipe"]
    assert all("skipped" in w for w in warnings)
    target = tmp_path / "restored"
    restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, target)
    assert not (target / "repository/conf/escape").is_symlink()
    assert not (target / "updates/pipe").exists()


def test_declared_paths_must_stay_inside_the_root(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    (home / "outside-link").symlink_to(tmp_path)
    repo = LocalRepository("vault", tmp_path / "vault")
    for bad in ["/etc", "../x", "outside-link/vault"]:
        with pytest.raises(PathsError, match="declare paths relative to the root"):
            backup_paths(repo, "s", new_snapshot_id(NOW), T, home, [bad], fields())
    assert repo.list() == []


def test_restore_replaces_each_path_and_leaves_undeclared_ones(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    repo, snapshot_id, _ = snapshot_of(tmp_path, home)
    (home / "repository/conf/deployment.toml").write_text("broken")
    (home / "repository/conf/extra.toml").write_text("added after the backup")
    (home / "bin/run.sh").write_text("changed, not declared")
    restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, home)
    assert (home / "repository/conf/deployment.toml").read_text() == "[server]\noffset = 0\n"
    assert not (home / "repository/conf/extra.toml").exists()
    assert (home / "bin/run.sh").read_text() == "changed, not declared"
    assert not [p for p in home.rglob("*") if ".drydock-" in p.name]


def test_only_restores_the_chosen_paths(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    repo, snapshot_id, _ = snapshot_of(tmp_path, home)
    (home / "repository/conf/deployment.toml").write_text("broken")
    (home / "updates/config.json").write_text("changed")
    result = restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, home,
                           only=["repository/conf/deployment.toml"])
    assert result.paths == ("repository/conf/deployment.toml",)
    assert (home / "repository/conf/deployment.toml").read_text() == "[server]\noffset = 0\n"
    assert (home / "updates/config.json").read_text() == "changed"
    with pytest.raises(PathsError, match="does not hold repository/nothing"):
        restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, home,
                      only=["repository/nothing"])


def test_a_flipped_byte_is_found_before_anything_is_written(tmp_path):
    home = tmp_path / "home"
    make_home(home)
    repo, snapshot_id, _ = snapshot_of(tmp_path, home)
    stored = tmp_path / "vault/gw-1-runtime" / snapshot_id / "paths.tar.zst"
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x40
    stored.write_bytes(bytes(data))
    (home / "repository/conf/deployment.toml").write_text("current")
    before = tree(home)
    with pytest.raises(IntegrityError, match="part paths.tar"):
        restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, home)
    assert tree(home) == before
    empty = tmp_path / "empty"
    with pytest.raises(IntegrityError):
        restore_paths(repo, "gw-1-runtime", snapshot_id, "paths.tar", T, empty)
    assert not empty.exists()


def test_an_unsafe_snapshot_is_refused_and_the_target_untouched(tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id = new_snapshot_id(NOW)

    def evil(sink: BinaryIO) -> None:
        with tarfile.open(fileobj=sink, mode="w|") as tar:
            ok = tarfile.TarInfo("repository/conf/ok.toml")
            ok.size = 2
            tar.addfile(ok, io.BytesIO(b"ok"))
            bad = tarfile.TarInfo("repository/conf/../../../evil")
            bad.size = 4
            tar.addfile(bad, io.BytesIO(b"evil"))

    repo.put("s", snapshot_id, [PartSource(name="paths.tar", kind="tar", write=evil)], fields())
    target = tmp_path / "target"
    (target / "repository/conf").mkdir(parents=True)
    (target / "repository/conf/ok.toml").write_text("mine")
    before = tree(target)
    with pytest.raises(PathsError, match="climbs out with '..'; the snapshot is not safe"):
        restore_paths(repo, "s", snapshot_id, "paths.tar", T, target)
    assert tree(target) == before
    assert not (tmp_path / "evil").exists()


def test_a_dump_part_is_not_restored_as_paths(tmp_path):
    repo = LocalRepository("vault", tmp_path / "vault")
    snapshot_id = new_snapshot_id(NOW)
    repo.put("s", snapshot_id, [PartSource(name="db", kind="dump", write=lambda s: None)],
             fields())
    with pytest.raises(PathsError, match="is a dump part, not a tar"):
        restore_paths(repo, "s", snapshot_id, "db", T, tmp_path / "t")
