"""The fast path of `drydock plan`: print the kept no-op plan when nothing it rested on
has changed, without loading the spec models, the providers or the planners."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from engine.plan_memo.git_status import git_position
from engine.plan_memo.memo import MemoError, fill, parse_memo
from engine.plan_memo.stamps import file_stamp, memo_key
from engine.plan_memo.store import memo_path, read_memo_bytes
from engine.spec.errors import SpecError
from engine.spec.sources import TemplatePathError, read_sources, read_template, spec_digest


def _unchanged(directory: Path, fmt: str) -> tuple[str, str] | None:
    """(the kept output, the reason) ... None when the memo does not hold."""
    data = read_memo_bytes(memo_path(directory))
    if data is None:
        return None
    try:
        memo = parse_memo(data)
    except MemoError:
        return None
    output = memo.outputs.get(fmt)
    if output is None or memo.key != memo_key(directory):
        return None
    if any(file_stamp(p) != stamp for p, stamp in memo.files.items()):
        return None
    try:
        sources = read_sources(directory)
        root = directory.resolve()
        templates = {name: read_template(root, name) for name in memo.templates}
    except (SpecError, TemplatePathError, OSError):
        return None
    if spec_digest(sources, templates) != memo.spec_digest:
        return None
    if git_position(directory) != memo.git:
        return None
    from engine.wiring_memo import replay_host_reads

    if replay_host_reads(memo.reads) is not None:
        return None
    return output, ""


def replayed(directory: Path, fmt: str) -> str | None:
    """The plan of the spec in `directory` rendered as `fmt` from its memo, or None when
    the full plan must run (no memo, or anything it rested on has changed)."""
    if os.environ.get("DRYDOCK_NOW"):
        return None
    try:
        found = _unchanged(directory, fmt)
    except (OSError, ValueError, UnicodeError):
        return None
    if found is None:
        return None
    now = datetime.now(UTC)
    plan_id = now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    created = now.isoformat().replace("+00:00", "Z")
    return fill(found[0], plan_id, created)
