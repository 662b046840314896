"""The HTTP edge: the FastAPI app, native `/v1`, authentication, errors, idempotency."""
