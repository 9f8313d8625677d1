"""The service's storage: SQLAlchemy Core tables, the mapping of rows to the domain,
shared queries and the migrations (``migrate``)."""
