"""Pre-change backups: patch folders are hard-linked, other files copied, restores exact."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from providers.hosts.local import LocalTransport
from providers.product.change_backup import restore_backup, take_backup

T = LocalTransport()
JAR = "repository/components/patches/patch0001/a.jar"
CONF = "repository/conf/deployment.toml"


def test_patch_jars_are_linked_config_is_copied_and_both_restore(tmp_path: Path) -> None:
    home, backup = tmp_path / "home", tmp_path / "backup"
    for rel, data in ((JAR, b"jar"), (CONF, b"[server]\n")):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes(data)
    existed = take_backup(T, PurePosixPath(home), PurePosixPath(backup),
                          ["repository/components/patches", CONF, "repository/absent"])
    assert existed == {"repository/components/patches": True, CONF: True,
                       "repository/absent": False}
    files = backup / "files"
    assert (files / JAR).stat().st_ino == (home / JAR).stat().st_ino
    assert (files / CONF).stat().st_ino != (home / CONF).stat().st_ino
    with (home / CONF).open("ab") as f:  # an edit in place leaves the backup alone
        f.write(b"edited = true\n")
    (home / JAR).unlink()  # drydock replaces patches by folder, never in place
    (home / "repository/absent").write_text("new")
    restore_backup(T, PurePosixPath(home), PurePosixPath(backup))
    assert (home / CONF).read_bytes() == b"[server]\n"
    assert (home / JAR).read_bytes() == b"jar"
    assert not (home / "repository/absent").exists()


def test_a_file_inside_a_copied_folder_is_recorded_once_and_restores(tmp_path: Path) -> None:
    home, backup = tmp_path / "home", tmp_path / "backup"
    (home / CONF).parent.mkdir(parents=True)
    (home / CONF).write_bytes(b"[server]\n")
    existed = take_backup(T, PurePosixPath(home), PurePosixPath(backup),
                          ["repository/conf", CONF, "./repository/conf"])
    assert existed == {"repository/conf": True, CONF: True, "./repository/conf": True}
    assert sorted(p.relative_to(backup / "files").as_posix()
                  for p in (backup / "files").rglob("*")) == [
        "repository", "repository/conf", CONF]
    (home / CONF).write_bytes(b"broken\n")
    (home / "repository/conf/new.xml").write_text("<x/>")
    restore_backup(T, PurePosixPath(home), PurePosixPath(backup))
    assert (home / CONF).read_bytes() == b"[server]\n"
    assert not (home / "repository/conf/new.xml").exists()


def test_a_linked_folder_is_backed_up_as_what_it_points_to_and_the_home_is_untouched(
        tmp_path: Path) -> None:
    # `repository/conf` links to another folder of the home: the backup holds that folder's
    # bytes once, and writing it never goes through the link into the home.
    home, backup = tmp_path / "home", tmp_path / "backup"
    (home / "shared-conf").mkdir(parents=True)
    (home / "shared-conf/deployment.toml").write_bytes(b"[server]\n")
    (home / "repository").mkdir()
    (home / "repository/conf").symlink_to(home / "shared-conf")
    before = sorted(p.relative_to(home).as_posix() for p in home.rglob("*"))
    existed = take_backup(T, PurePosixPath(home), PurePosixPath(backup),
                          ["repository/conf", CONF])
    assert existed == {"repository/conf": True, CONF: True}
    copy = backup / "files/repository/conf"
    assert copy.is_dir() and not copy.is_symlink()
    assert (copy / "deployment.toml").read_bytes() == b"[server]\n"
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == before


def test_a_file_listed_before_its_folder_is_still_backed_up_once(tmp_path: Path) -> None:
    home, backup = tmp_path / "home", tmp_path / "backup"
    (home / CONF).parent.mkdir(parents=True)
    (home / CONF).write_bytes(b"[server]\n")
    (home / "repository/conf/log4j2.properties").write_bytes(b"rootLogger=INFO\n")
    existed = take_backup(T, PurePosixPath(home), PurePosixPath(backup),
                          [CONF, "repository/conf"])
    assert existed == {CONF: True, "repository/conf": True}
    copy = backup / "files/repository/conf"
    assert sorted(p.name for p in copy.iterdir()) == ["deployment.toml", "log4j2.properties"]
    (home / CONF).write_bytes(b"broken\n")
    restore_backup(T, PurePosixPath(home), PurePosixPath(backup))
    assert (home / CONF).read_bytes() == b"[server]\n"
