"""Engine operations: every command plans, reviews, applies and records the same way."""
