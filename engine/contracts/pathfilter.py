"""Which paths of a snapshot a restore takes: `--include` and `--exclude` patterns (pure).

As restic's: a pattern with a `/` matches the path from the snapshot's root (a leading
`/` is allowed), and selects everything below what it matches; a pattern without `/`
matches any one name along the path (`*.log`, `logs`). A path is restored when some
include matches (or none is given) and no exclude does.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from engine.contracts.models import Frozen


def pattern_matches(pattern: str, path: str) -> bool:
    """True when `pattern` selects `path` (relative, POSIX).

    >>> pattern_matches("repository/conf", "repository/conf/deployment.toml")
    True
    >>> pattern_matches("*.log", "repository/logs/wso2carbon.log")
    True
    """
    pattern = pattern.strip().strip("/")
    parts = PurePosixPath(path).parts
    if "/" in pattern:
        return any(fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1))
    return any(fnmatchcase(part, pattern) for part in parts)


class PathFilter(Frozen):
    """The include and exclude patterns of one restore."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when any pattern is given."""
        return bool(self.include or self.exclude)

    def selects(self, path: str) -> bool:
        """True when `path` is restored."""
        if self.include and not any(pattern_matches(p, path) for p in self.include):
            return False
        return not any(pattern_matches(p, path) for p in self.exclude)
