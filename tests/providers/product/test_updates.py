"""The update installer on real homes and packages in the layout WUM ships (top folder,
descriptors without checksums, kernel-named files): levels, conflicts found from the pack
and the earlier payloads, patched plugins, and hostile or self-contradicting packages
refused before anything is written."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from providers.product.level_facts import describe_levels, product_updates
from providers.product.updates import (
    UpdateError,
    install_level,
    package_path,
    read_level,
    write_level,
)
from testkit.builder import build_pack, build_updates, build_world
from tests.helpers.servers import tree, update_package

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

PLUGINS = "repository/components/plugins"
IMPL = f"{PLUGINS}/org.wso2.carbon.apimgt.impl_9.28.116.jar"  # level 11 modifies it


@pytest.fixture
def world(tmp_path: Path):
    return build_world(tmp_path / "world")


def fresh_home(world, root: Path) -> Path:
    home = root / "home"
    install_pack(T, world.pack, home)
    return home


def apply_levels(world, home: Path, upto: int, start: int = 1) -> None:
    for n in range(start, upto + 1):
        install_level(T, home, package_path(world.updates, "4.9.0", n), level=n,
                      pack=world.pack)


def install(world, home: Path, level: int, **kw: object):
    return install_level(T, home, package_path(world.updates, "4.9.0", level), level=level,
                         pack=world.pack, **kw)


def everything(root: Path) -> dict[str, str]:
    """Tree of a whole folder (the home and whatever sits beside it)."""
    return tree(root)


def test_levels_installed_one_by_one_equal_the_pack_built_at_that_level(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 7)  # level 5 and 7 remove files, 4 modifies the velocity template
    reference = tmp_path / "reference"
    install_pack(T, build_pack(tmp_path / "packs", level=7, updates_dir=world.updates), reference)
    assert read_level(T, home) == 7
    assert tree(home) == tree(reference)
    assert not (home / "repository/components/lib/commons-legacy_1.0.0.jar").exists()


def test_installing_a_level_again_is_a_no_op(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 2)
    before = tree(home)
    done = install(world, home, 2)
    assert done.already and tree(home) == before


def test_a_level_out_of_order_is_refused(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 2)
    before = tree(home)
    with pytest.raises(UpdateError, match="at update level 2; level 4 needs level 3 first"):
        install(world, home, 4)
    assert tree(home) == before


def test_a_missing_level_names_the_folder_and_the_kernel_named_file(world, tmp_path):
    updates, _chain, _ = product_updates(world.updates, "wso2am-4.2.0", world.pack)
    facts = describe_levels(T, None, updates, None, 14, 15)
    assert ("no package in" in facts["15"]["problems"][0]
            and "WSO2-CARBON-UPDATE-4.9.0-0015.zip" in facts["15"]["problems"][0])


def test_a_package_for_another_product_is_refused(world, tmp_path):
    other = build_updates(tmp_path / "is-updates", product="wso2is", levels=[1])[0]
    home = fresh_home(world, tmp_path)
    before = tree(home)
    with pytest.raises(UpdateError, match="is for wso2is-4.2.0, not wso2am-4.2.0"):
        install_level(T, home, other, level=1)
    assert tree(home) == before


def test_a_package_holding_another_level_is_refused(world, tmp_path):
    renamed = tmp_path / "renamed" / "WSO2-CARBON-UPDATE-4.9.0-0002.zip"
    renamed.parent.mkdir()
    shutil.copy(package_path(world.updates, "4.9.0", 3), renamed)
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 1)
    with pytest.raises(UpdateError, match="carries update 0003, not level 2"):
        install_level(T, home, renamed, level=2)


def test_a_conflicting_file_is_refused_with_its_name_and_nothing_is_written(world, tmp_path):
    """No descriptor checksum says what IMPL held: the pack and levels 1..10 do."""
    assert b"checksums" not in zipfile.ZipFile(package_path(world.updates, "4.9.0", 11)).read(
        "WSO2-CARBON-UPDATE-4.9.0-0011/update-descriptor3.yaml")
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    (home / IMPL).write_bytes(b"hand-made hotfix")
    before = tree(home)
    with pytest.raises(UpdateError) as err:
        install(world, home, 11)
    assert IMPL in str(err.value) and "conflicts: overwrite" in str(err.value)
    assert tree(home) == before and read_level(T, home) == 10


def test_overwrite_takes_the_packages_file(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    (home / IMPL).write_bytes(b"hand-made hotfix")
    done = install(world, home, 11, overwrite=True)
    assert done.overwritten == (IMPL,)
    reference = tmp_path / "reference"
    install_pack(T, build_pack(tmp_path / "packs", level=11, updates_dir=world.updates), reference)
    assert (home / IMPL).read_bytes() == (reference / IMPL).read_bytes()
    assert read_level(T, home) == 11


def _started(home: Path) -> Path:
    """What Carbon leaves after a start: the plugins' originals in patches/patch0000."""
    base = home / "repository/components/patches/patch0000"
    base.mkdir(parents=True)
    for jar in (home / PLUGINS).glob("*.jar"):
        (base / jar.name).write_bytes(jar.read_bytes())
    return base


def test_a_plugin_laid_over_by_a_patch_is_compared_with_its_patch0000_original(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    original = (home / IMPL).read_bytes()
    _started(home)
    patch = home / "repository/components/patches/patch0007"
    patch.mkdir()
    (patch / Path(IMPL).name).write_bytes(b"patched by patch0007")
    (home / IMPL).write_bytes(b"patched by patch0007")  # Carbon laid the patch over it
    install(world, home, 11)
    assert read_level(T, home) == 11
    assert (home / IMPL).read_bytes() not in (original, b"patched by patch0007")


def test_a_hand_edited_plugin_of_a_started_server_is_still_a_conflict(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    _started(home)
    (home / IMPL).write_bytes(b"copied in by hand")
    with pytest.raises(UpdateError, match="conflicts with 1 file"):
        install(world, home, 11)
    assert (home / IMPL).read_bytes() == b"copied in by hand"


def test_a_carried_file_failing_the_checksums_key_is_refused(tmp_path):
    world = build_world(tmp_path / "world", checksums=True)
    home = fresh_home(world, tmp_path)
    package = package_path(world.updates, "4.9.0", 1)
    tampered = tmp_path / "tampered" / package.name
    tampered.parent.mkdir()
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if "/carbon.home/" in info.filename and not info.is_dir():
                data = b"swapped content"
            dst.writestr(info, data)
    before = tree(home)
    with pytest.raises(UpdateError, match="does not match its descriptor's checksum"):
        install_level(T, home, tampered, level=1, pack=world.pack)
    assert tree(home) == before


def _rewrite(package: Path, out: Path, *, drop: str | None = None,
             add: tuple[str, bytes] | None = None) -> Path:
    """A copy of `package` without the member ending in `drop` / with `add` added."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if drop is None or not info.filename.endswith(drop):
                dst.writestr(info, src.read(info))
        if add is not None:
            dst.writestr(*add)
    return out


def test_a_descriptor_listing_a_file_the_package_lacks_is_refused_in_one_line(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    package = _rewrite(package_path(world.updates, "4.9.0", 11),
                       tmp_path / "bad" / "WSO2-CARBON-UPDATE-4.9.0-0011.zip",
                       drop=Path(IMPL).name)
    before = tree(home)
    with pytest.raises(UpdateError) as err:
        install_level(T, home, package, level=11, pack=world.pack)
    message = str(err.value)
    assert "\n" not in message and package.name in message and IMPL in message
    assert "refused" in message
    assert tree(home) == before and read_level(T, home) == 10


def test_a_package_carrying_a_file_its_descriptor_does_not_list_is_refused(world, tmp_path):
    home = fresh_home(world, tmp_path)
    package = _rewrite(package_path(world.updates, "4.9.0", 1),
                       tmp_path / "bad" / "WSO2-CARBON-UPDATE-4.9.0-0001.zip",
                       add=("WSO2-CARBON-UPDATE-4.9.0-0001/carbon.home/bin/extra.sh", b"x"))
    before = tree(home)
    with pytest.raises(UpdateError, match="carries carbon.home/bin/extra.sh, which its "
                                          "descriptor does not list"):
        install_level(T, home, package, level=1, pack=world.pack)
    assert tree(home) == before


def test_packages_without_a_top_folder_or_with_only_a_v2_descriptor_install_alike(
        world, tmp_path):
    bare = build_updates(tmp_path / "bare", levels=range(1, 4), top=False)
    for package in bare:
        _rewrite(package, tmp_path / "v2" / package.name, drop="update-descriptor3.yaml")
    reference = fresh_home(world, tmp_path / "a")
    apply_levels(world, reference, 3)
    for folder in ("bare", "v2"):
        home = fresh_home(world, tmp_path / folder / "site")
        for n in range(1, 4):
            install_level(T, home, tmp_path / folder / f"WSO2-CARBON-UPDATE-4.9.0-{n:04d}.zip",
                          level=n, pack=world.pack)
        assert tree(home) == tree(reference), folder


def _evil_member(kind: str) -> zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes]:
    names = {"dotdot": "carbon.home/../../escaped.txt",
             "absolute": "/tmp/drydock-escaped.txt"}
    if kind == "symlink":
        info = zipfile.ZipInfo("carbon.home/bin/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        return info, b"/etc/passwd"
    return zipfile.ZipInfo(names[kind]), b"escaped\n"


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_an_unsafe_member_refuses_the_package_before_anything_is_written(world, tmp_path, kind):
    home = fresh_home(world, tmp_path / "site")
    good = b"good jar"
    package = update_package(tmp_path / "evil" / "WSO2-CARBON-UPDATE-4.9.0-0001.zip", level=1,
                             members={"carbon.home/repository/components/lib/x.jar": good},
                             added=["repository/components/lib/x.jar"],
                             raw=[_evil_member(kind)])
    before = everything(tmp_path / "site")
    with pytest.raises(UpdateError) as err:
        install_level(T, home, package, level=1, pack=world.pack)
    assert package.name in str(err.value)
    assert everything(tmp_path / "site") == before
    assert not (tmp_path / "escaped.txt").exists() and not (home / "bin" / "link").exists()


@pytest.mark.parametrize("path", ["../outside.jar", "/etc/cron.d/evil", "a\\..\\b.jar"])
def test_an_unsafe_path_in_the_descriptor_is_refused(world, tmp_path, path):
    package = update_package(tmp_path / "evil" / "WSO2-CARBON-UPDATE-4.9.0-0001.zip", level=1,
                             members={}, added=[path])
    home = fresh_home(world, tmp_path)
    with pytest.raises(UpdateError, match="refused"):
        install_level(T, home, package, level=1)


def test_write_level_keeps_every_key_and_the_string_type_of_the_level(tmp_path):
    home = tmp_path / "home"
    (home / "updates").mkdir(parents=True)
    config = {"update-level": "3", "channel": "full", "username": "ops@example.com",
              "service": {"access-token": "secret-token"}}
    (home / "updates" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_level(T, home, 4)
    text = (home / "updates" / "config.json").read_text()
    assert json.loads(text) == {**config, "update-level": "4"}
    assert list(json.loads(text)) == list(config) and text.startswith("{\n  ")
    (home / "updates" / "config.json").write_text(json.dumps({"update-level": 4}))
    write_level(T, home, 5)
    assert json.loads((home / "updates" / "config.json").read_text()) == {"update-level": 5}


def test_describe_levels_lists_files_conflicts_instructions_and_missing_levels(world, tmp_path):
    home = fresh_home(world, tmp_path)
    apply_levels(world, home, 10)
    (home / IMPL).write_bytes(b"hand-made hotfix")
    package_path(world.updates, "4.9.0", 13).unlink()
    updates, chain, problems = product_updates(world.updates, "wso2am-4.2.0", world.pack)
    assert problems == [] and updates.platform_version == "4.9.0"
    facts = describe_levels(T, home, updates, chain, 10, 14)
    assert sorted(facts, key=int) == ["11", "12", "13", "14"]
    assert facts["11"]["modified"] == [IMPL]
    assert facts["11"]["conflicts"] and facts["11"]["conflicts"][0].startswith(IMPL)
    assert "repository/components/lib/wso2-fixlib-u0012_1.0.0.jar" in facts["12"]["added"]
    assert "re-publish the APIs" in facts["12"]["instructions"]
    assert "carries update 0013" in facts["13"]["problems"][0]
    assert facts["14"]["problems"] == [] and facts["14"]["conflicts"] == []
