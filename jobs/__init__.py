"""Scheduled jobs. `python -m jobs` runs them all in ONE process (never inside web workers)."""
