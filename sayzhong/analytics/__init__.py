"""Product analytics: funnel events through a small port (local table by default, PostHog later)."""
