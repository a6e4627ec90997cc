"""The memo document and its strict JSON form (pure: no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine.contracts.witness import Read

MEMO_FORMAT = 1
OUTPUTS = ("text", "json", "markdown")
ID_MARK, AT_MARK = "\x00plan-id\x00", "\x00created-at\x00"
"""Where the plan's id and creation time go in the kept outputs."""


class MemoError(ValueError):
    """A memo that is not one this drydock wrote (it is ignored, never trusted)."""


@dataclass(frozen=True)
class Memo:
    """A no-op plan's outputs and everything its answer rested on."""

    key: str
    """Digest of drydock's code, the interpreter, the spec folder and the working folder."""
    spec_digest: str
    templates: tuple[str, ...]
    files: dict[str, str]
    """Path -> stamp (`engine/plan_memo/stamps.py`) of the state, journal and lock files."""
    git: dict[str, Any] | None
    reads: tuple[Read, ...]
    outputs: dict[str, str] = field(default_factory=dict)
    """Format -> the rendered plan with ID_MARK and AT_MARK in place of its id and time."""

    def to_json(self) -> bytes:
        """The document as saved."""
        return json.dumps({
            "format": MEMO_FORMAT, "key": self.key, "spec_digest": self.spec_digest,
            "templates": list(self.templates), "files": self.files, "git": self.git,
            "reads": [[r.host, r.op, r.path, r.answer] for r in self.reads],
            "outputs": self.outputs,
        }, separators=(",", ":")).encode()


def _strs(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MemoError(f"{what} is not a list of strings")
    return value


def _str_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise MemoError(f"{what} is not a map of strings")
    return value


def _git(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"commit", "branch", "dirty"}
            or not all(v is None or isinstance(v, str) for v in
                       (value["commit"], value["branch"]))
            or not isinstance(value["dirty"], bool)):
        raise MemoError("git is not {commit, branch, dirty}")
    return value


def parse_memo(data: bytes) -> Memo:
    """The memo in `data`. Raises MemoError for anything but a well-formed memo."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MemoError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != MEMO_FORMAT:
        raise MemoError("not a memo of this format")
    reads = doc.get("reads")
    if not isinstance(reads, list):
        raise MemoError("reads is not a list")
    parsed = []
    for item in reads:
        if not isinstance(item, list) or len(item) != 4 or not all(
                isinstance(v, str) for v in item):
            raise MemoError("a read is not [host, op, path, answer]")
        parsed.append(Read(*item))
    key, digest = doc.get("key"), doc.get("spec_digest")
    if not isinstance(key, str) or not isinstance(digest, str):
        raise MemoError("key or spec_digest is not a string")
    outputs = _str_map(doc.get("outputs"), "outputs")
    if not set(outputs) <= set(OUTPUTS):
        raise MemoError("outputs names an unknown format")
    return Memo(key=key, spec_digest=digest,
                templates=tuple(_strs(doc.get("templates"), "templates")),
                files=_str_map(doc.get("files"), "files"), git=_git(doc.get("git")),
                reads=tuple(parsed), outputs=outputs)


def fill(output: str, plan_id: str, created_at: str) -> str:
    """A kept output with this plan's id and creation time."""
    return output.replace(ID_MARK, plan_id).replace(AT_MARK, created_at)


def blank(output: str, plan_id: str, created_at: str) -> str:
    """A rendered output with its plan's id and time replaced by the marks."""
    return output.replace(plan_id, ID_MARK).replace(created_at, AT_MARK)
