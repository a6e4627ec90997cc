"""Servers end to end on artifacts in the layouts WSO2 ships: kernel-named packages with a
top folder and no checksums, patches whose README asks for more than a copy, and homes as
Carbon and the update client leave them (patch0000, .metadata, patches.log, a config.json
holding the client's account and tokens, a product.txt without a newline)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from testkit.builder import build_pack
from testkit.builder_content import CLIENT_KEYS
from tests.helpers.servers import Estate, Gateway, home_at_level, server_status, tree

T = LocalTransport()
IMPL = "repository/components/plugins/org.wso2.carbon.apimgt.impl_9.28.116.jar"
PATCHES = "repository/components/patches"
TOKENS = [CLIENT_KEYS["service"]["access-token"], CLIENT_KEYS["service"]["refresh-token"]]


def _carbon_own(home: Path) -> dict[str, str]:
    """Carbon's own files under the patches folder (patch0000 and .metadata)."""
    return {k: v for k, v in tree(home / PATCHES).items()
            if k.startswith(("patch0000", ".metadata"))}


def _running(estate: Estate, level: int, patches: tuple[int, ...] = (1,)) -> tuple[Gateway, Path]:
    home = home_at_level(estate, "gw-1", level)
    gw = Gateway("gw-1", level=level, patches=patches)
    estate.declare(gw)
    estate.run("apply", ".", "--auto-approve", check=0)
    return gw, home


def test_in_place_10_to_14_leaves_every_file_as_the_payloads_did_and_keeps_the_client_keys(
        estate: Estate, tmp_path: Path) -> None:
    gw, home = _running(estate, 10)
    config_before = json.loads((home / "updates/config.json").read_text())
    assert config_before["update-level"] == "10" and "service" in config_before
    gw.level = 14
    estate.declare(gw)
    shown = estate.run("plan", ".", "--format", "json", "-o", "plan.json", check=0).stdout
    plan_text = (estate.spec / "plan.json").read_text()
    assert "WSO2-CARBON-UPDATE-4.9.0-0014.zip" in plan_text
    assert "instructions" in plan_text and "re-publish the APIs" in plan_text
    estate.run("apply", "plan.json", "--auto-approve", check=0)
    status = server_status(gw)
    assert status is not None and status["update_level"] == 14
    reference = install_pack(T, build_pack(tmp_path / "ref", level=14), tmp_path / "ref-home")
    ref_home = tmp_path / "ref-home"
    assert reference.startswith("installed")
    patched = {p.name for p in (home / PATCHES / "patch0001").glob("*.jar")}
    managed = ("repository/conf/deployment.toml", "updates/config.json")
    skip = (PATCHES, "repository/logs")
    want = {k: v for k, v in tree(ref_home).items()
            if k not in managed and not k.startswith(skip)
            and not (k.startswith("repository/components/plugins/") and
                     k.rsplit("/", 1)[1].split(":")[0] in patched)}
    have = {k: v for k, v in tree(home).items() if k in want or (
        k not in managed and not k.startswith(skip) and not k.startswith(
            "repository/components/plugins/"))}
    assert have == want  # every file as the payloads of levels 11..14 left it
    config = json.loads((home / "updates/config.json").read_text())
    assert config == {**config_before, "update-level": "14"}
    assert list(config) == list(config_before)
    assert (home / "updates/product.txt").read_bytes() == b"wso2am-4.2.0"
    for token in TOKENS:
        assert token not in shown and token not in plan_text
        assert token not in (estate.spec / "state" / "t.json").read_text()
        assert token not in estate.run("drift", ".", "--format", "json").stdout
    estate.run("plan", ".", "--detailed-exitcode", check=0)


def test_a_hand_edit_is_a_conflict_found_without_descriptor_checksums(estate: Estate) -> None:
    package = estate.world / "updates" / "WSO2-CARBON-UPDATE-4.9.0-0011.zip"
    descriptor = zipfile.ZipFile(package).read(
        "WSO2-CARBON-UPDATE-4.9.0-0011/update-descriptor3.yaml").decode()
    assert "checksums" not in descriptor and IMPL in descriptor
    gw, home = _running(estate, 10, patches=())
    (home / IMPL).write_bytes(b"hotfix copied in by hand")
    before, pid = tree(home), server_status(gw)["pid"]
    gw.level = 14
    estate.declare(gw)
    shown = estate.run("plan", ".", check=0).stdout
    assert f"server.gw-1/update-0011: {IMPL}: is sha256:" in shown
    assert "as the pack and the earlier levels left it" in shown
    proc = estate.run("apply", ".", "--auto-approve", check=1)
    assert "refused before anything changed" in proc.stderr and IMPL in proc.stderr
    assert tree(home) == before and server_status(gw)["pid"] == pid


def test_a_self_contradicting_package_is_refused_with_nothing_changed(estate: Estate) -> None:
    gw, home = _running(estate, 10, patches=())
    package = estate.world / "updates" / "WSO2-CARBON-UPDATE-4.9.0-0012.zip"
    broken = package.with_suffix(".tmp")
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if "/carbon.home/" in info.filename and info.filename.endswith(".jar") \
                    and "fixlib" in info.filename:
                continue  # the descriptor still lists it as added
            dst.writestr(info, src.read(info))
    broken.replace(package)
    before, pid = tree(home), server_status(gw)["pid"]
    gw.level = 14
    estate.declare(gw)
    shown = estate.run("plan", ".", check=0).stdout
    line = next(x for x in shown.splitlines() if "server.gw-1/update-0012" in x and "refused" in x)
    assert "WSO2-CARBON-UPDATE-4.9.0-0012.zip: its descriptor lists" in line
    proc = estate.run("apply", ".", "--auto-approve", check=1)
    assert "WSO2-CARBON-UPDATE-4.9.0-0012.zip" in proc.stderr and "refused" in proc.stderr
    assert tree(home) == before and server_status(gw)["pid"] == pid
    assert json.loads((home / "updates/config.json").read_text())["update-level"] == "10"


def test_carbons_own_patch_folders_are_left_alone_and_never_reported(estate: Estate) -> None:
    gw, home = _running(estate, 10, patches=(1,))
    assert (home / PATCHES / "patch0000").is_dir()
    assert (home / PATCHES / ".metadata" / "prePatchedJARs.txt").is_file()
    assert (home / "repository/logs/patches.log").is_file()
    (home / "repository/components/servicepacks/servicepack0001").mkdir(parents=True)
    own_before = _carbon_own(home)
    drift = estate.run("drift", ".", check=0).stdout
    assert "patch0000" not in drift and ".metadata" not in drift
    gw.level, gw.patches = 12, (2,)
    estate.declare(gw)
    shown = estate.run("plan", ".", check=0).stdout
    assert "patch0000" not in shown and ".metadata" not in shown and "servicepack" not in shown
    assert "remove patch0001 from gw-1" in shown and "install WSO2-CARBON-PATCH-4.9.0-0002" in shown
    assert "not copied by drydock: WSO2-CARBON-PATCH-4.9.0-0002/lib/" in shown
    assert "repository/conf/carbon.xml" in shown and "instructions:" in shown
    estate.run("apply", ".", "--auto-approve", check=0)
    assert sorted(p.name for p in (home / PATCHES).iterdir()) == [
        ".metadata", "patch0000", "patch0002"]
    assert (home / "repository/components/servicepacks/servicepack0001").is_dir()
    assert "patch0002" in (home / "repository/logs/patches.log").read_text()
    assert not (home / "lib").exists()  # the patch's lib/ member is never copied silently
    assert not (home / "repository/conf/carbon.xml").exists()
    assert set(_carbon_own(home)) >= {k for k in own_before if k.startswith(".metadata")}
    assert server_status(gw)["patches"] == ["patch0002"]
    estate.run("drift", ".", check=0)
    estate.run("plan", ".", "--detailed-exitcode", check=0)
