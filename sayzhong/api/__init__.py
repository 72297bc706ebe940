"""Versioned JSON API (`/api/v1`) and the personal access tokens that authenticate it."""
