"""Restores from backup repositories: snapshots into databases, server homes and folders."""
