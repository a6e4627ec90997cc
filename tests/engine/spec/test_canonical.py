"""The canonical layout (pure): comments, key order, quoting and flow collections kept;
indentation, spacing and trailing blanks normalised; idempotent; never a change of
meaning; the demo files are already canonical."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.spec.canonical import FormatError, canonical_yaml

ROOT = Path(__file__).resolve().parents[3]
MESSY = """\
# the gateways
servers:
    gw-1:     # first
        host: node-a
        patches:
        - WSO2-CARBON-PATCH-4.2.0-0001
        - 'WSO2-CARBON-PATCH-4.2.0-0002'
        service: {start: bin/api-manager.sh start, stop: "bin/api-manager.sh stop"}
"""
MESSY = MESSY.replace("host: node-a\n", "host: node-a   \n")  # trailing blanks
CANONICAL = """\
# the gateways
servers:
  gw-1:       # first
    host: node-a
    patches:
      - WSO2-CARBON-PATCH-4.2.0-0001
      - 'WSO2-CARBON-PATCH-4.2.0-0002'
    service: {start: bin/api-manager.sh start, stop: "bin/api-manager.sh stop"}
"""


def test_layout_is_normalised_and_comments_quotes_flow_kept() -> None:
    assert canonical_yaml("s.yaml", MESSY) == CANONICAL


def test_formatting_is_idempotent() -> None:
    assert canonical_yaml("s.yaml", CANONICAL) == CANONICAL


def test_long_lines_are_not_rewrapped() -> None:
    line = "vars: {a: " + "x" * 150 + "}\n"
    assert canonical_yaml("s.yaml", line) == line


@pytest.mark.parametrize("path", sorted((ROOT / "specs" / "demo").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_the_demo_files_are_canonical(path: Path) -> None:
    text = path.read_text()
    assert canonical_yaml(path.name, text) == text


def test_unreadable_yaml_is_an_error_at_its_position() -> None:
    with pytest.raises(FormatError) as caught:
        canonical_yaml("bad.yaml", "servers:\n  gw: [a, b\n")
    assert caught.value.issue.file == "bad.yaml" and caught.value.issue.line >= 2
    with pytest.raises(FormatError, match="duplicate"):
        canonical_yaml("dup.yaml", "a: 1\na: 2\n")
