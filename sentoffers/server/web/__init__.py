"""HTTP: the API (``api``: routes, authentication, idempotency, limits, errors) and the
seller's web UI (``ui``)."""
