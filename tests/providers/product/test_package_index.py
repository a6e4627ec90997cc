"""The updates folder indexed by descriptor: names are not trusted, mismatches are noted,
other products' and unreadable packages are told apart, and the expected content before a
level comes from the pack and the earlier payloads."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from providers.product.install import pack_top, product_pack_facts
from providers.product.level_chain import UNKNOWN, LevelChain
from providers.product.package_index import index_updates
from testkit.builder import build_pack, build_updates, build_world, install_home

IMPL = "repository/components/plugins/org.wso2.carbon.apimgt.impl_9.28.116.jar"  # levels 5, 11
LEGACY = "repository/components/lib/commons-legacy_1.0.0.jar"  # removed by level 7


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return build_world(tmp_path_factory.mktemp("index") / "world")


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_package_is_found_by_its_descriptor_and_a_lying_name_is_noted(world, tmp_path):
    folder = tmp_path / "updates"
    folder.mkdir()
    shutil.copy(world.update_files[2], folder / "WSO2-CARBON-UPDATE-4.9.0-8000.zip")
    shutil.copy(world.update_files[3], folder / "update-four.zip")
    (folder / "notes.txt").write_text("not a package")
    found = index_updates(folder, "wso2am-4.2.0")
    assert sorted(found.levels) == [3, 4] and found.problems == ()
    assert "carries update 0003 for kernel 4.9.0" in found.levels[3].name_note()
    assert "is not named WSO2-CARBON-UPDATE" in found.levels[4].name_note()
    assert found.platform_version == "4.9.0" and found.highest == 4


def test_other_products_are_left_out_and_two_packages_of_one_level_are_a_problem(
        world, tmp_path):
    folder = tmp_path / "updates"
    build_updates(folder, product="wso2is", version="6.1.0", levels=[1])
    shutil.copy(world.update_files[0], folder / "WSO2-CARBON-UPDATE-4.9.0-0001-copy.zip")
    shutil.copy(world.update_files[0], folder / "another.zip")
    (folder / "WSO2-CARBON-UPDATE-4.9.0-0002.zip").write_bytes(b"not a zip")
    found = index_updates(folder, "wso2am-4.2.0")
    assert found.levels == {}
    assert any("both carry update 0001" in p for p in found.problems)
    assert any("0002.zip" in p and "not a readable zip" in p for p in found.problems)
    assert sorted(index_updates(folder, "wso2is-6.1.0").levels) == [1]


def test_partially_applicable_products_get_their_subset(world):
    km = index_updates(world.updates, "wso2is-km-5.10.0")
    assert sorted(km.levels) == [2, 4, 6, 8, 10, 12, 14]  # even levels, incl. misspelt key
    assert km.changes(2).partial and km.changes(2).added == ()


def test_the_expected_content_before_a_level_is_the_pack_then_the_payloads(world, tmp_path):
    updates = index_updates(world.updates, "wso2am-4.2.0")
    chain = LevelChain(world.pack, pack_top(world.pack), -1, updates)
    reference = install_home(build_pack(tmp_path / "p10", level=10), tmp_path / "h10")
    base = install_home(world.pack, tmp_path / "h0")
    before = chain.before(11, [IMPL, LEGACY, "repository/components/lib/none.jar"])
    assert before[IMPL] == _sha(reference / IMPL) != _sha(base / IMPL)
    assert before[LEGACY] is None  # level 7 removed it
    assert before["repository/components/lib/none.jar"] is None
    assert chain.before(3, [LEGACY])[LEGACY] == _sha(base / LEGACY)  # from the pack
    at14 = install_home(build_pack(tmp_path / "p14", level=14), tmp_path / "h14")
    assert chain.after(11, IMPL) == _sha(at14 / IMPL)
    gap = index_updates(world.updates, "wso2am-4.2.0").model_copy(
        update={"levels": {n: p for n, p in updates.levels.items() if n != 8}})
    assert LevelChain(world.pack, pack_top(world.pack), -1, gap).before(11, [IMPL])[IMPL] \
        is UNKNOWN


def test_pack_facts_name_the_kernel_and_the_packages_by_level(world):
    facts = product_pack_facts(world.pack, world.updates)
    assert facts.product == "wso2am-4.2.0" and facts.platform_version == "4.9.0"
    assert facts.packages[11].endswith("WSO2-CARBON-UPDATE-4.9.0-0011.zip")
    assert product_pack_facts(world.pack, None).platform_version == "4.9.0"  # from bin/
