"""Machine-readable descriptions of the JSON API (the OpenAPI document)."""
