"""Naming rules of carbon products: patch ids, patch folders, update package names (pure)."""

from __future__ import annotations

import re
from functools import lru_cache

from engine.spec.common import PATCH_ID_RE


@lru_cache(maxsize=4096)  # a few distinct ids, asked for by every server of an estate
def patch_dir(patch_id: str) -> str:
    """`WSO2-CARBON-PATCH-4.9.0-0005` -> `patch0005`; a bare `patch0005` stays as it is.

    Raises ValueError for anything else.
    """
    if re.fullmatch(r"patch\d{4}", patch_id):
        return patch_id
    m = PATCH_ID_RE.fullmatch(patch_id)
    if not m:
        raise ValueError(
            f"patch {patch_id!r} is not of the form WSO2-CARBON-PATCH-<kernel>-<NNNN>"
        )
    return f"patch{m.group('num')}"


def update_package_name(platform_version: str, level: int) -> str:
    """The file name of one update level's package."""
    return f"WSO2-CARBON-UPDATE-{platform_version}-{level:04d}.zip"


def split_product(key: str) -> tuple[str, str]:
    """`wso2am-4.2.0` -> (`wso2am`, `4.2.0`)."""
    name, _, version = key.rpartition("-")
    if not name or not version:
        return key, ""
    return name, version
