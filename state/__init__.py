"""State storage: the state document, its backends (local, S3), lock, journal and history."""
