"""The spec example of the shared design document is a valid spec (the contract holds)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from engine.spec.parse import SourceFile, parse_environment

DESIGN = Path(os.environ.get("DRYDOCK_SHARED", Path(__file__).resolve().parents[4] / "shared")
              ) / "DESIGN.md"


def _yaml_blocks() -> list[str]:
    if not DESIGN.is_file():
        pytest.skip(f"design document not found at {DESIGN}; set DRYDOCK_SHARED")
    return re.findall(r"```yaml\n(.*?)```", DESIGN.read_text(encoding="utf-8"), flags=re.S)


def test_the_design_example_spec_parses() -> None:
    example = next(b for b in _yaml_blocks() if b.startswith("environment:"))
    env = parse_environment([SourceFile("DESIGN.md", example)])
    assert env.servers["gw-1"].update_level == 14
    assert env.backups["apim-db"].copies == ["dr-vault"]
    assert env.drills["apim-db-restore"].from_ == "dr-vault"
    assert env.backups["apim-db"].keep.monthly == 12


def test_the_design_recovery_mapping_parses() -> None:
    mapping = next(b for b in _yaml_blocks() if b.startswith("recover:"))
    example = next(b for b in _yaml_blocks() if b.startswith("environment:"))
    extra = ("hosts:\n  node-b: {site: dr, transport: local, root: /srv/dr}\n"
             "databases:\n  apim_db_dr: {engine: sqlite, path: /srv/dr/apim.db}\n")
    env = parse_environment([SourceFile("DESIGN.md", example), SourceFile("x.yaml", extra),
                             SourceFile("recover.yaml", mapping)])
    assert env.recover["dr"].hosts == {"node-a": "node-b"}
