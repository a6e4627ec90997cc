"""Descriptors as WUM and wum-uc write them: v3 and v2, numbers as text, partial products
(both spellings), packages with and without a top folder, and hostile YAML refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from providers.product.descriptors import DescriptorError, parse_descriptor, read_package
from testkit.builder import build_updates

V3 = b"""update_number: 0327
platform_version: 4.4.0
platform_name: wilkes
md5sum: 0f3c7b2a9d8e1f60a5b4c3d2e1f00112
description: |
  Fixes the token API.
instructions: |
  Run the DB migration script in dbscripts/migration before starting.
bug_fixes:
  APIMANAGER-5827: Token revocation fails
compatible_products:
- product_name: wso2am
  product_version: 2.1.0
  added_files: []
  modified_files:
  - repository/components/plugins/org.wso2.carbon.apimgt.impl_6.1.66.jar
  removed_files: []
partial_applicable_products:
- product_name: wso2is-km
  product_version: 5.3.0
  added_files: []
  modified_files:
  - repository/components/plugins/org.wso2.carbon.apimgt.impl_6.1.66.jar
  removed_files: []
"""

V2 = b"""update_number: 2000
platform_version: 4.4.0
platform_name: wilkes
applies_to: wso2am-2.1.0, wso2is-5.3.0
bug_fixes:
  N/A: N/A
description: Security fix
file_changes:
  added_files:
  - repository/components/lib/new.jar
  removed_files: []
  modified_files:
  - bin/wso2server.sh
"""


def test_v3_reads_numbers_as_text_and_both_spellings_of_partial_products() -> None:
    d = parse_descriptor(V3, "x", 3)
    assert d.update_number == "0327" and d.number == 327  # not octal 215
    assert d.platform_version == "4.4.0" and "migration" in d.instructions
    am = d.for_product("wso2am-2.1.0")
    km = d.for_product("wso2is-km-5.3.0")
    assert am is not None and not am.partial and len(am.modified) == 1
    assert km is not None and km.partial
    assert d.for_product("wso2am-4.2.0") is None
    assert d.checksums == {}


def test_v2_applies_to_every_listed_product() -> None:
    d = parse_descriptor(V2, "x", 2)
    assert d.number == 2000
    for product in ("wso2am-2.1.0", "wso2is-5.3.0"):
        changes = d.for_product(product)
        assert changes is not None
        assert changes.added == ("repository/components/lib/new.jar",)
        assert changes.modified == ("bin/wso2server.sh",)


@pytest.mark.parametrize("text, message", [
    (b"a: &x [1]\nb: *x\n", "aliases are not allowed"),
    (b"update_number: " + b"[" * 40 + b"]" * 40 + b"\n", "nested deeper"),
    (b"update_number: abc\nplatform_version: 4.9.0\n", "is not a number"),
    (b"update_number: '0001'\n", "no platform_version"),
    (b"- a\n- b\n", "not a mapping"),
    (b"update_number: 1\nplatform_version: 4.9.0\ncompatible_products: {a: b}\n",
     "must be a list"),
    (b"update_number: 1\nplatform_version: 4.9.0\ncompatible_products:\n"
     b"- {product_name: wso2am, product_version: 4.2.0, added_files: [../../etc/x]}\n",
     "refused"),
    (b"update_number: [\n", "not valid YAML at line"),
])
def test_hostile_or_broken_descriptors_fail_in_one_line(text: bytes, message: str) -> None:
    with pytest.raises(DescriptorError, match=message) as err:
        parse_descriptor(text, "WSO2-CARBON-UPDATE-4.9.0-0001.zip", 3)
    assert "\n" not in str(err.value)


def test_packages_with_and_without_a_top_folder_read_alike(tmp_path: Path) -> None:
    (topped,) = build_updates(tmp_path / "a", levels=[4])
    (bare,) = build_updates(tmp_path / "b", levels=[4], top=False)
    layout_a, desc_a = read_package(topped)
    layout_b, desc_b = read_package(bare)
    assert layout_a.top == "WSO2-CARBON-UPDATE-4.9.0-0004" and layout_b.top == ""
    assert desc_a == desc_b and desc_a.format == 3
    assert layout_a.payload == layout_b.payload and layout_a.payload
    rel = next(iter(layout_a.payload))
    assert layout_a.member(rel) == f"WSO2-CARBON-UPDATE-4.9.0-0004/carbon.home/{rel}"


def test_a_zip_without_any_descriptor_is_not_an_update_package(tmp_path: Path) -> None:
    path = tmp_path / "WSO2-CARBON-UPDATE-4.9.0-0001.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("top/readme.txt", "hello")
    with pytest.raises(DescriptorError, match="holds no update-descriptor3.yaml"):
        read_package(path)
