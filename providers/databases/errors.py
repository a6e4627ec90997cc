"""Errors raised by database engines; messages are one line naming the database."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database operation failed; the message names the database and what to check."""


class DatabaseUnavailable(DatabaseError):
    """The database server cannot be reached (or refuses the login)."""


class DatabaseNotEmpty(DatabaseError):
    """A restore would overwrite a database that already holds objects."""
