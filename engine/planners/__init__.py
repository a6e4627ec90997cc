"""Planners turn one resource's change into ordered actions (pure, one file per kind)."""

from __future__ import annotations

from engine.planners.base import PlanContext
from engine.planners.dispatch import plan_change

__all__ = ["PlanContext", "plan_change"]
