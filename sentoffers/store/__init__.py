"""Storage adapters: SQLAlchemy Core tables, migrations and the unit of work."""
