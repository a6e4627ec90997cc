"""Plain-text tables whose columns are as wide as their widest cell."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
               right: frozenset[int] = frozenset()) -> str:
    """`headers` and `rows` as lines of columns two spaces apart, each column padded to
    its widest cell (right-aligned for the column indexes in `right`); the last column is
    not padded. Ends with a newline.

    >>> print(text_table(["id", "size"], [["a-long-id", 5]], right=frozenset({1})), end="")
    id         size
    a-long-id     5
    """
    cells = [[str(c) for c in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    last = len(headers) - 1
    out = []
    for line in cells:
        parts = [c if i == last and i not in right else
                 (c.rjust(widths[i]) if i in right else c.ljust(widths[i]))
                 for i, c in enumerate(line)]
        out.append("  ".join(parts).rstrip())
    return "\n".join(out) + "\n"
