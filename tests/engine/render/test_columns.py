"""Plain-text tables: every column as wide as its widest cell, sizes right-aligned."""

from __future__ import annotations

from engine.render.columns import text_table


def test_a_long_cell_widens_its_column_for_every_row() -> None:
    out = text_table(["id", "series", "size", "copies"],
                     [["20261202T045026Z-post-90b81a", "gw-2", 25651, "dr-vault"],
                      ["20261203T045028Z-a56752", "apim-db", 421, "-"]],
                     right=frozenset({2}))
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == 3
    starts = {line.index(word) for line, word in zip(lines, ["series", "gw-2", "apim-db"],
                                                     strict=True)}
    assert len(starts) == 1  # the series column starts at one place on every line
    ends = {line.index(word) + len(word) for line, word in zip(lines, ["size", "25651", "421"],
                                                              strict=True)}
    assert len(ends) == 1  # sizes end at one place


def test_the_last_column_is_not_padded() -> None:
    assert text_table(["a", "b"], [["x", "y"], ["xx", "long"]]) == "a   b\nx   y\nxx  long\n"
