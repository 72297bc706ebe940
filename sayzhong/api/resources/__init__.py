"""API handlers, one module per resource; each declares its `OPERATIONS` (see `sayzhong.api.operations`)."""
