"""Ids of plans and runs: sortable by time, unique by randomness."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id(now: datetime) -> str:
    """A sortable unique id: UTC stamp plus randomness."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
