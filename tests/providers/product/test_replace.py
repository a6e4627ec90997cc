"""Pack replacement on real homes: the updated pack beside, runtime data carried over, the
directories swapped by rename, the old home kept and swapped back on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.hosts.local import LocalTransport
from providers.product.install import install_pack
from providers.product.patches import install_patch
from providers.product.replace import (
    ReplaceError,
    level_pack,
    previous_home,
    prune_previous,
    replace_home,
    swap_back,
)
from providers.product.updates import read_level
from testkit.builder import build_pack, build_world
from tests.helpers.servers import tree

T = LocalTransport()
"""The local host, for calls of host-side functions on this machine."""

CONF = "repository/conf/deployment.toml"


@pytest.fixture
def site(tmp_path: Path):
    world = build_world(tmp_path / "world", patches=(1, 2))
    packed = build_pack(world.packs, level=14, updates_dir=world.updates)
    home = tmp_path / "opt" / "gw-1"
    install_pack(T, world.pack, home)
    for n in (1, 2):
        install_patch(T, home, world.patches / f"WSO2-CARBON-PATCH-4.9.0-{n:04d}.zip",
                      f"WSO2-CARBON-PATCH-4.9.0-{n:04d}", f"patch{n:04d}")
    (home / CONF).write_text("[server]\noffset = 3\n")
    (home / "repository/deployment/server/synapse-configs/default/api/Pizza.xml").write_text(
        "<api name='Pizza'/>\n")
    (home / "repository/tenants/1").mkdir(parents=True)
    (home / "repository/tenants/1/tenant.xml").write_text("<tenant/>\n")
    return world, packed, home


def test_level_pack_sits_beside_the_pack():
    assert str(level_pack("/w/packs/wso2am-4.2.0.zip", 14)) == "/w/packs/wso2am-4.2.0-level14.zip"


def test_replace_carries_runtime_data_and_declared_patches_and_keeps_the_old_home(site):
    world, packed, home = site
    old = tree(home)
    done = replace_home(T, home, packed, level=14, patches=["patch0001"], plan_id="p1")
    assert read_level(T, home) == 14
    assert (home / CONF).read_text() == "[server]\noffset = 3\n"
    assert (home / "repository/tenants/1/tenant.xml").is_file()
    assert (home / "repository/deployment/server/synapse-configs/default/api/Pizza.xml").is_file()
    patches = sorted(p.name for p in (home / "repository/components/patches").iterdir())
    assert patches == ["patch0001"]  # patch0002 is no longer declared
    assert "repository/conf" in done.carried
    assert Path(done.previous) == previous_home(home, "p1")
    assert tree(Path(done.previous)) == old


def test_replace_is_idempotent_for_one_plan(site):
    _world, packed, home = site
    replace_home(T, home, packed, level=14, patches=[], plan_id="p1")
    again = replace_home(T, home, packed, level=14, patches=[], plan_id="p1")
    assert again.already and read_level(T, home) == 14


def test_a_pack_at_another_level_is_refused_and_the_home_is_unchanged(site, tmp_path):
    world, _packed, home = site
    twelve = build_pack(tmp_path / "other", level=12, updates_dir=world.updates)
    before = tree(home)
    with pytest.raises(ReplaceError, match="is at update level 12, not 14"):
        replace_home(T, home, twelve, level=14, patches=[], plan_id="p1")
    assert tree(home) == before
    assert sorted(p.name for p in home.parent.iterdir()) == ["gw-1"]


def test_a_pack_of_another_product_is_refused(site, tmp_path):
    _world, _packed, home = site
    other = build_pack(tmp_path / "is", product="wso2is", level=3)
    with pytest.raises(ReplaceError, match="holds wso2is-4.2.0, but .* is wso2am-4.2.0"):
        replace_home(T, home, other, level=3, patches=[], plan_id="p1")


def test_swap_back_returns_the_old_home_and_keeps_the_failed_one(site):
    _world, packed, home = site
    old = tree(home)
    replace_home(T, home, packed, level=14, patches=["patch0001"], plan_id="p1")
    message = swap_back(T, home, "p1")
    assert "swapped gw-1.previous-p1 back" in message
    assert tree(home) == old and read_level(T, home) == -1
    assert read_level(T, home.with_name("gw-1.failed-p1")) == 14
    assert "no gw-1.previous-p1" in swap_back(T, home, "p1")
    assert tree(home) == old


def test_the_next_replacement_prunes_what_earlier_plans_kept(site):
    _world, packed, home = site
    replace_home(T, home, packed, level=14, patches=[], plan_id="p1")
    replace_home(T, home, packed, level=14, patches=[], plan_id="p2")
    assert sorted(p.name for p in home.parent.iterdir()) == ["gw-1", "gw-1.previous-p2"]
    assert prune_previous(T, home, "p3") == ["gw-1.previous-p2"]
    assert sorted(p.name for p in home.parent.iterdir()) == ["gw-1"]
