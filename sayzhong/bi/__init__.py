"""Business intelligence (issue 15): daily aggregates, metrics, reports and KPI alerts."""
