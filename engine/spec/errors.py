"""Spec errors with a file, line and column, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in a spec, printed as `FILE:LINE:COL: message`."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return one_line(f"{self.file}:{self.line}:{self.col}: {self.message}")


_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {10: "\\n", 13: "\\r", 9: "\\t"}


def one_line(text: str) -> str:
    """`text` with control characters (newlines from a hostile key, say) escaped."""
    return text.translate(_CONTROL)


class SpecError(Exception):
    """Every problem found in an environment's spec files, sorted by position."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(i) for i in self.issues))
