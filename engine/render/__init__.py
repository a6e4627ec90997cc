"""Renderers of plans, drift reports and graphs (pure: models in, text out)."""
