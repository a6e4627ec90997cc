"""What installing a patch archive will and will not do, read for the plan (DESIGN §6).

A patch archive holds one top folder ``WSO2-CARBON-PATCH-<kernel>-<NNNN>/`` with
LICENSE.txt, README.txt, wso2carbon-version.txt and ``patchNNNN/``, and sometimes
``lib/``, ``bin/`` or ``repository/conf/…`` members whose placement only the README
describes. drydock copies ``patchNNNN/`` and nothing else: the other members and the
README's installation instructions are shown in the plan for a person to carry out.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from providers.product.archive import (
    ArchiveError,
    inspect_zip,
    read_member,
    verify_zip,
)
from providers.product.artifact_files import artifact_stamp

STANDARD = frozenset({"LICENSE.txt", "README.txt", "NOT_A_CONTRIBUTION.txt",
                      "wso2carbon-version.txt"})
MAX_README = 64 * 1024
MAX_LINES = 40
MAX_LINE = 200
_CACHE: dict[tuple[str, int, int, int, str], dict[str, Any]] = {}


def _instructions(readme: str) -> list[str]:
    """The README's installation instructions (its whole text when it has no such heading),
    bounded in lines and width."""
    lines = readme.replace("\r\n", "\n").splitlines()
    start = next((i for i, line in enumerate(lines)
                  if "INSTALLATION INSTRUCTIONS" in line.upper()), None)
    body = lines[start + 1:] if start is not None else lines
    body = [line.strip()[:MAX_LINE] for line in body
            if line.strip() and set(line.strip()) != {"-"}]
    return body[:MAX_LINES]


def _read(archive: Path, patch_id: str, patch_dir: str) -> dict[str, Any]:
    verify_zip(archive)
    members = inspect_zip(archive)
    tops = {PurePosixPath(m.name).parts[0] for m in members}
    top = patch_id if tops == {patch_id} else ""
    prefix = f"{top}/" if top else ""
    files = [m.name[len(prefix):] for m in members if not m.is_dir and m.name.startswith(prefix)]
    if not any(f.startswith(f"{patch_dir}/") for f in files):
        return {"instructions": [], "others": [],
                "problems": [f"{archive.name} holds no {prefix}{patch_dir}/; it is not the "
                             f"archive of {patch_id}"]}
    others = sorted(f for f in files if not f.startswith(f"{patch_dir}/") and f not in STANDARD)
    try:
        readme = read_member(archive, f"{prefix}README.txt", max_size=MAX_README)
        instructions = _instructions(readme.decode("utf-8", errors="replace"))
    except ArchiveError:
        instructions = []
    return {"instructions": instructions, "others": others, "problems": []}


def patch_archive_facts(archive: Path, patch_id: str, patch_dir: str) -> dict[str, Any]:
    """{instructions: README lines, others: members drydock does not copy (relative to the
    top folder), problems} for one patch archive; cached per path, size and mtime.
    Never raises: an unreadable or unsafe archive is a problem line."""
    stamp = artifact_stamp(archive)
    if stamp is None:
        return {"instructions": [], "others": [],
                "problems": [f"patch archive {archive} not found; put it in the product's "
                             "patches folder"]}
    key = (*stamp, patch_dir)
    found = _CACHE.get(key)
    if found is None:
        try:
            found = _read(archive, patch_id, patch_dir)
        except ArchiveError as exc:
            found = {"instructions": [], "others": [], "problems": [f"patch {patch_id}: {exc}"]}
        if len(_CACHE) > 20_000:
            _CACHE.clear()
        _CACHE[key] = found
    return found
