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
