"""Tests for the product fixture builder: packs, update chains, patches, worlds."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import stat
import tomllib
import zipfile
import zlib
from pathlib import Path

import pytest
import yaml

from providers.product.archive import ArchiveError, extract_zip, inspect_zip, read_member
from testkit.builder import (
    EVIL_KINDS,
    build_evil_zip,
    build_pack,
    build_patch,
    build_updates,
    build_world,
    corrupt,
    install_home,
    pack_file_name,
)

DESCRIPTOR_KEYS = ["update_number", "platform_version", "platform_name", "md5sum",
                   "description", "instructions", "bug_fixes", "compatible_products"]
PARTIAL_KEYS = {"partially_applicable_products", "partial_applicable_products"}


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _apply_update(home: Path, package: Path, tmp: Path) -> dict:
    """Apply one update package to a real home by following its descriptor."""
    top = package.name.removesuffix(".zip")
    desc = yaml.safe_load(read_member(package, f"{top}/update-descriptor3.yaml"))
    payload = tmp / f"payload-{desc['update_number']}"
    extract_zip(package, payload, only=f"{top}/carbon.home", strip=f"{top}/carbon.home")
    product = desc["compatible_products"][0]
    for path, sums in desc["checksums"].items():
        target = home / path
        assert (_sha(target) if target.exists() else None) == sums["before"], path
    for path in product["added_files"] + product["modified_files"]:
        target = home / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((payload / path).read_bytes())
    for path in product["removed_files"]:
        (home / path).unlink()
    for path, sums in desc["checksums"].items():
        target = home / path
        assert (_sha(target) if target.exists() else None) == sums["after"], path
    config = json.loads((home / "updates/config.json").read_text())
    config["update-level"] = str(int(desc["update_number"]))
    (home / "updates/config.json").write_text(json.dumps(config, indent=2) + "\n")
    return desc


def _reads_back(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    try:
        zf.read(info)
    except (zipfile.BadZipFile, zlib.error):
        return False
    return True


def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = build_world(tmp_path / "one")
    second = build_world(tmp_path / "two")
    assert _tree(first.root) == _tree(second.root)
    assert len(_tree(first.root)) == 1 + 14 + 5


def test_world_is_idempotent_and_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w")
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in world.root.rglob("*.zip")}
    again = build_world(tmp_path / "w")
    assert again == world
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in world.root.rglob("*.zip")} == before
    assert world.pack == world.packs / "wso2am-4.2.0.zip"
    assert [p.name for p in world.update_files][-1] == "WSO2-CARBON-UPDATE-4.9.0-0014.zip"
    assert [p.name for p in world.patch_files] == [
        f"WSO2-CARBON-PATCH-4.9.0-{n:04d}.zip" for n in range(1, 6)]


def test_world_repairs_a_damaged_file(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w")
    good = world.update_files[3].read_bytes()
    corrupt(world.update_files[3])
    build_world(tmp_path / "w")
    assert world.update_files[3].read_bytes() == good


def test_pack_has_the_carbon_layout(tmp_path: Path) -> None:
    pack = build_pack(tmp_path / "packs")
    names = {m.name for m in inspect_zip(pack)}
    top = "wso2am-4.2.0"
    for rel in ["bin/api-manager.sh", "bin/version.txt", "bin/carbon_server.py",
                "repository/conf/deployment.toml", "repository/components/plugins",
                "repository/components/patches", "repository/components/dropins",
                "repository/components/lib", "repository/deployment/server/webapps",
                "repository/deployment/server/synapse-configs/default/api",
                "repository/tenants", "repository/resources/security/wso2carbon.jks",
                "repository/database/WSO2CARBON_DB.db", "repository/logs",
                "updates/product.txt", "updates/config.json"]:
        assert f"{top}/{rel}" in names, rel
    assert {n.split("/")[0] for n in names} == {top}


def test_installed_home_is_a_working_product_home(tmp_path: Path) -> None:
    home = install_home(build_pack(tmp_path / "packs"), tmp_path / "opt" / "wso2am-4.2.0")
    assert (home / "bin/api-manager.sh").stat().st_mode & stat.S_IXUSR
    assert (home / "updates/product.txt").read_bytes() == b"wso2am-4.2.0"  # no newline
    config = json.loads((home / "updates/config.json").read_text())
    assert config["update-level"] == "-1" and config["product"] == "wso2am-4.2.0"
    assert (home / "bin/wso2carbon-version.txt").read_text() == "WSO2 Carbon Framework v4.9.0\n"
    conf = tomllib.loads((home / "repository/conf/deployment.toml").read_text())
    assert conf["server"]["offset"] == 0
    assert "wso2carbon.jks" == conf["keystore"]["tls"]["file_name"]
    plugins = sorted((home / "repository/components/plugins").glob("*.jar"))
    assert "org.wso2.carbon.core_4.9.0.jar" in [p.name for p in plugins]
    for jar in plugins:
        with zipfile.ZipFile(jar) as zf:
            assert zf.testzip() is None
            assert b"Bundle-SymbolicName" in zf.read("META-INF/MANIFEST.MF")
    con = sqlite3.connect(home / "repository/database/WSO2CARBON_DB.db")
    try:
        assert con.execute("SELECT UM_USER_NAME FROM UM_USER").fetchall() == [("admin",)]
    finally:
        con.close()
    for empty in ["repository/components/patches", "repository/tenants", "repository/logs"]:
        assert (home / empty).is_dir()


def test_install_home_refuses_a_pack_without_one_top_folder(tmp_path: Path) -> None:
    pack = tmp_path / "two-tops.zip"
    with zipfile.ZipFile(pack, "w") as zf:
        zf.writestr("a/x.txt", "x")
        zf.writestr("b/y.txt", "y")
    with pytest.raises(ArchiveError, match="exactly one top folder"):
        install_home(pack, tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_update_chain_applies_level_by_level_with_matching_checksums(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w", checksums=True)
    home = install_home(world.pack, tmp_path / "home")
    removed_any = False
    for number, package in enumerate(world.update_files, start=1):
        desc = _apply_update(home, package, tmp_path)
        assert list(desc)[:len(DESCRIPTOR_KEYS)] == DESCRIPTOR_KEYS
        assert set(desc) - set(DESCRIPTOR_KEYS) == {"checksums", *(PARTIAL_KEYS & set(desc))}
        assert desc["update_number"] == f"{number:04d}"
        assert desc["platform_version"] == "4.9.0"  # the kernel, not the product version
        product = desc["compatible_products"][0]
        assert (product["product_name"], product["product_version"]) == ("wso2am", "4.2.0")
        assert product["modified_files"] or product["added_files"]
        assert set(desc["checksums"]) == set(
            product["added_files"] + product["modified_files"] + product["removed_files"])
        for path in product["added_files"]:
            assert desc["checksums"][path]["before"] is None
        for path in product["removed_files"]:
            assert desc["checksums"][path]["after"] is None
        removed_any = removed_any or bool(product["removed_files"])
        assert desc["bug_fixes"]
    assert removed_any
    at_level = install_home(build_pack(tmp_path / "lv", level=14), tmp_path / "home14")
    assert _tree(at_level) == _tree(home)


def test_update_package_layout(tmp_path: Path) -> None:
    (package,) = build_updates(tmp_path, levels=[4])
    assert package.name == "WSO2-CARBON-UPDATE-4.9.0-0004.zip"
    top = "WSO2-CARBON-UPDATE-4.9.0-0004"
    files = {m.name for m in inspect_zip(package) if not m.is_dir}
    desc = yaml.load(read_member(package, f"{top}/update-descriptor3.yaml"), yaml.BaseLoader)
    v2 = yaml.load(read_member(package, f"{top}/update-descriptor.yaml"), yaml.BaseLoader)
    product = desc["compatible_products"][0]
    assert files == {f"{top}/{n}" for n in ("update-descriptor3.yaml", "update-descriptor.yaml",
                                             "LICENSE.txt", "NOT_A_CONTRIBUTION.txt")} | {
        f"{top}/carbon.home/{p}" for p in product["added_files"] + product["modified_files"]}
    assert desc["update_number"] == "0004" and "checksums" not in desc
    assert desc["instructions"] and desc["partially_applicable_products"][0][
        "product_name"] == "wso2is-km"
    assert v2["applies_to"] == "wso2am-4.2.0" and v2["file_changes"]["modified_files"] == \
        product["modified_files"]
    (bare,) = build_updates(tmp_path / "bare", levels=[10], top=False)
    names = {m.name for m in inspect_zip(bare)}
    assert "update-descriptor3.yaml" in names
    assert "partial_applicable_products" in read_member(bare, "update-descriptor3.yaml").decode()


def test_build_updates_matches_the_world(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w", levels=6)
    alone = build_updates(tmp_path / "alone", levels=range(5, 7))
    assert [p.read_bytes() for p in alone] == [p.read_bytes() for p in world.update_files[4:]]
    with pytest.raises(ValueError, match="start at 1"):
        build_updates(tmp_path / "bad", levels=[0, 1])


def test_pack_at_a_level_from_packages_equals_generated(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w")
    from_packages = build_pack(tmp_path / "a", level=9, updates_dir=world.updates)
    generated = build_pack(tmp_path / "b", level=9)
    assert from_packages.name == pack_file_name("wso2am", "4.2.0", 9) == "wso2am-4.2.0-level9.zip"
    assert from_packages.read_bytes() == generated.read_bytes()
    config = read_member(from_packages, "wso2am-4.2.0/updates/config.json")
    assert json.loads(config)["update-level"] == "9"


def test_pack_at_a_level_refuses_a_broken_chain(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w", levels=7, checksums=True)
    (world.updates / "WSO2-CARBON-UPDATE-4.9.0-0001.zip").unlink()
    (world.updates / "WSO2-CARBON-UPDATE-4.9.0-0007.zip").rename(
        world.updates / "WSO2-CARBON-UPDATE-4.9.0-0001.zip")
    with pytest.raises(ValueError, match="org.wso2.carbon.core_4.9.0.jar is sha256:.*expects"):
        build_pack(tmp_path / "out", level=1, updates_dir=world.updates)
    assert not (tmp_path / "out").exists()


def test_updates_for_another_product_are_refused(tmp_path: Path) -> None:
    other = build_updates(tmp_path / "is", product="wso2is", levels=[1])[0]
    assert read_member(other, "WSO2-CARBON-UPDATE-4.9.0-0001/update-descriptor3.yaml")
    with pytest.raises(ValueError, match="not an update for wso2am-4.2.0"):
        build_pack(tmp_path / "out", level=1, updates_dir=tmp_path / "is")


def test_patch_archive_layout(tmp_path: Path) -> None:
    patch = build_patch(tmp_path, "4.9.0", 5, jars=3)
    assert patch.name == "WSO2-CARBON-PATCH-4.9.0-0005.zip"
    top = "WSO2-CARBON-PATCH-4.9.0-0005"
    files = sorted(m.name for m in inspect_zip(patch) if not m.is_dir)
    jars = [f for f in files if f.startswith(f"{top}/patch0005/")]
    assert len(jars) == 3 and all(j.endswith(".jar") for j in jars)
    for name in ("README.txt", "LICENSE.txt", "NOT_A_CONTRIBUTION.txt",
                 "wso2carbon-version.txt"):
        assert f"{top}/{name}" in files
    assert f"{top}/lib/org.wso2.carbon.server-4.9.0.patch0005.jar" in files
    readme = read_member(patch, f"{top}/README.txt").decode()
    assert "INSTALLATION INSTRUCTIONS" in readme and f"{top}/lib" in readme
    plugins = set(m.name.rsplit("/", 1)[1] for m in inspect_zip(build_pack(tmp_path))
                  if "/plugins/" in m.name)
    with zipfile.ZipFile(patch) as zf:
        for jar in jars:
            assert jar.rsplit("/", 1)[1] in plugins
            inner = zipfile.ZipFile(io.BytesIO(zf.read(jar)))
            assert top.encode() in b"".join(inner.read(n) for n in inner.namelist())
    bare = build_patch(tmp_path / "bare", number=7, jars=1, resources=False)
    assert [m.name for m in inspect_zip(bare) if not m.is_dir] == [
        f"WSO2-CARBON-PATCH-4.9.0-0007/{n}" for n in (
            "LICENSE.txt", "NOT_A_CONTRIBUTION.txt", "README.txt",
            "patch0007/org.wso2.carbon.apimgt.keymgt_9.28.116.jar", "wso2carbon-version.txt")]


def test_bad_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="product"):
        build_pack(tmp_path, product="../evil")
    with pytest.raises(ValueError, match="version"):
        build_patch(tmp_path, kernel="4.2/0")
    with pytest.raises(ValueError, match="patch number"):
        build_patch(tmp_path, number=0)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_flip_breaks_crc_and_truncate_breaks_the_zip(tmp_path: Path) -> None:
    flipped = corrupt(build_pack(tmp_path / "a"), how="flip")
    with zipfile.ZipFile(flipped) as zf:
        unreadable = [i.filename for i in zf.infolist() if not _reads_back(zf, i)]
    assert unreadable == ["wso2am-4.2.0/repository/database/WSO2CARBON_DB.db"]  # the largest
    cut = corrupt(build_pack(tmp_path / "b"), how="truncate")
    assert cut.stat().st_size < build_pack(tmp_path / "c").stat().st_size
    with pytest.raises(ValueError, match="unknown how"):
        corrupt(cut, how="melt")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", EVIL_KINDS)
def test_evil_zips_hold_what_they_claim(tmp_path: Path, kind: str) -> None:
    with zipfile.ZipFile(build_evil_zip(tmp_path / f"{kind}.zip", kind)) as zf:
        last = zf.infolist()[-1]
    mode = last.external_attr >> 16
    expected = {
        "dotdot": lambda: ".." in last.filename.split("/"),
        "absolute": lambda: last.filename.startswith("/"),
        "symlink": lambda: stat.S_ISLNK(mode),
        "device": lambda: stat.S_ISCHR(mode),
        "fifo": lambda: stat.S_ISFIFO(mode),
        "backslash": lambda: "\\" in last.filename,
        "duplicate": lambda: last.filename == "top/readme.txt",
    }
    assert expected[kind]()
