"""Business intelligence: reporting layer, dashboards and synthetic data."""
