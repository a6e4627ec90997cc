"""Terraform-like change symbols and short value formatting shared by renderers (pure)."""

from __future__ import annotations

import json
from typing import Any

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "no-op": " "}


def fmt(value: Any) -> str:
    """A compact, stable display of an attribute value."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        if value.startswith("sha256:"):
            return value[:19] + "…"
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)
