"""Desired state: the spec turned into comparable per-resource attributes (pure)."""

from __future__ import annotations

from engine.desired.build import build_desired

__all__ = ["build_desired"]
