"""Safe extraction of an untrusted tar stream into an empty folder on this machine."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import BinaryIO

from providers.hosts.base import HostError
from safefs.pathsafety import UnsafePathError


def safe_extract(stream: BinaryIO, root: Path, *, host: str) -> None:
    """Extract `stream` below `root`, refusing absolute names, `..`, escaping links, hard
    links, special files and duplicates; raises HostError naming the host."""
    from providers.repositories.tarpart import extract_tar

    try:
        extract_tar(stream, root, only=None, archive=f"{host}: tar stream into {root}")
    except (UnsafePathError, tarfile.TarError) as exc:
        raise HostError(str(exc)) from exc
