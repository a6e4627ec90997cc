"""The on-disk format versions this drydock writes (cheap to import: `drydock --version`)."""

from __future__ import annotations

PLAN_FORMAT = 1
"""`format` of a saved plan document (DESIGN §6)."""
