"""The API over HTTP: its routes (``routes``) and the plumbing every route shares:
authentication, idempotency, rate limits, error rendering, paging and compatibility parsing."""
