"""Restore drills: restore a snapshot into a scratch target, check it, time it, tear it down."""
