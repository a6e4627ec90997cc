"""Restore planners (pure): a snapshot, a change backup, a server's last good version."""
