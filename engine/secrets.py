"""Resolve secret references at run time; their values never leave memory."""

from __future__ import annotations

import os
from pathlib import Path

from engine.spec.common import SecretRef


class SecretError(ValueError):
    """A secret reference cannot be resolved; names the reference, never a value."""


def resolve_secret(ref: SecretRef, spec_dir: Path) -> str:
    """The value behind `{env: NAME}` or `{file: PATH}` (relative to the spec folder)."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if value is None:
            raise SecretError(f"secret env:{ref.env} is not set; export {ref.env} before running")
        return value
    path = Path(ref.file or "")
    path = path if path.is_absolute() else spec_dir / path
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except OSError as exc:
        raise SecretError(f"secret file:{ref.file} cannot be read ({exc.strerror})") from exc
