"""The state document format this code reads and writes (cheap to import)."""

from __future__ import annotations

STATE_FORMAT = 1
