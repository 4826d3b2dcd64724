"""The HTTP API: FastAPI routers under /v1, one per resource; programs are tenants."""
