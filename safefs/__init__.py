"""File-system safety shared by providers, state and the test kit.

Paths from outside stay inside their root (`pathsafety`); files are replaced atomically
(`atomicfile`).
"""
