"""A/B experiments: definitions, deterministic bucketing, exposures, QA overrides, results and statistics."""
