"""Errors raised by snapshot repositories; messages are one line naming what failed."""

from __future__ import annotations


class RepositoryError(Exception):
    """A repository operation failed (I/O, bad name, snapshot already there, ...)."""


class SnapshotNotFound(RepositoryError):
    """No snapshot with a manifest exists under that series and id (or it lacks the part)."""


class IntegrityError(RepositoryError):
    """Stored bytes do not match the manifest (sha256, size, or they do not decompress)."""
