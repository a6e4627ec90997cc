"""Where memos live (the user's cache folder) and how they are read and written.

`DRYDOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/drydock`, else `~/.cache/drydock`; memos go in
`plans/`, one per spec folder and working folder, mode 0600 in a 0700 folder. A memo that
another user owns, that others may write, or that is larger than MAX_BYTES is not read.
Every failure to read or write one is silent: a memo is only ever a shortcut.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from safefs.atomicfile import write_atomic

MAX_BYTES = 256 << 20
KEEP = 200
"""At most this many memos are kept; the least recently written go first."""


def cache_root() -> Path:
    """drydock's cache folder."""
    explicit = os.environ.get("DRYDOCK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "drydock" if xdg else Path.home() / ".cache" / "drydock"


def memo_path(directory: Path) -> Path:
    """The memo file of the spec in `directory`, planned from the working folder."""
    where = f"{os.path.realpath(directory)}\0{os.path.realpath(Path.cwd())}"
    name = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return cache_root() / "plans" / f"{name}.json"


def read_memo_bytes(path: Path) -> bytes | None:
    """The memo file's bytes, or None when absent or not to be trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (st.st_uid != os.geteuid() or st.st_mode & 0o022 or st.st_size > MAX_BYTES
                or not stat.S_ISREG(st.st_mode)):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def write_memo_bytes(path: Path, data: bytes) -> None:
    """Save a memo atomically (0600), then drop the oldest beyond KEEP; never raises."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, data, mode=0o600)
        _prune(path.parent)
    except OSError:
        return


def forget_memo(path: Path) -> None:
    """Remove a memo (a plan that changed something); never raises."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return


def _prune(folder: Path) -> None:
    memos = [(e.stat().st_mtime_ns, e.path) for e in os.scandir(folder)
             if e.name.endswith(".json") and e.is_file(follow_symlinks=False)]
    if len(memos) <= KEEP:
        return
    for _mtime, old in sorted(memos)[:len(memos) - KEEP]:
        Path(old).unlink(missing_ok=True)
