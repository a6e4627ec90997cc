"""The fingerprint cache beside the state: what each managed file looked like when hashed.

Every refresh saves the fingerprints it observed (size, mtime, inode, sha256 per file and
resource), so the next plan re-hashes only the files whose size, mtime or inode changed:
a warm no-op plan costs about one `stat` per managed file. The cache is an optimisation
only: a missing, unreadable or foreign file is an empty cache, and a failure to save is
ignored. A fingerprint whose mtime is within `RACY_NS` of the moment it was taken is not
kept (the file might still change within the clock's granularity without its mtime moving).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from safefs.atomicfile import make_private_dirs
from state.document import FileFingerprint

FORMAT = "drydock-fingerprints/1"
RACY_NS = 2_000_000_000
MAX_BYTES = 256 << 20

Prints = Mapping[str, Mapping[str, FileFingerprint]]


def cache_path(journal_path: Path) -> Path:
    """Where the cache of a state lives: beside its journal."""
    return journal_path.with_name(journal_path.name.removesuffix(".journal") + ".fingerprints")


def load(path: Path) -> dict[str, dict[str, FileFingerprint]]:
    """The cached fingerprints, address -> file -> fingerprint; {} when there are none."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return {}
        raw = json.loads(path.read_bytes())
        if raw.get("format") != FORMAT:
            return {}
        return {address: {rel: FileFingerprint.model_construct(
                              size=int(v[0]), mtime_ns=int(v[1]), inode=int(v[2]),
                              sha256=str(v[3]))
                          for rel, v in files.items()}
                for address, files in raw["resources"].items()}
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}


def updated(old: Prints, observed: Prints) -> dict[str, dict[str, FileFingerprint]]:
    """`old` with the resources of `observed` replaced by what was just observed."""
    return {**{a: dict(f) for a, f in old.items()}, **{a: dict(f) for a, f in observed.items()}}


def save(path: Path, prints: Prints, *, now_ns: int | None = None) -> None:
    """Replace the cache with `prints` (racy entries left out); errors are ignored.

    No fsync: losing the cache in a crash only costs the next plan its re-hashing.
    """
    limit = (now_ns if now_ns is not None else time.time_ns()) - RACY_NS
    resources = {
        address: {rel: [fp.size, fp.mtime_ns, fp.inode, fp.sha256]
                  for rel, fp in sorted(files.items()) if fp.mtime_ns < limit}
        for address, files in sorted(prints.items()) if files}
    data = json.dumps({"format": FORMAT, "resources": resources},
                      separators=(",", ":")).encode()
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        make_private_dirs(path.parent)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        temp.replace(path)
    except OSError:
        temp.unlink(missing_ok=True)
