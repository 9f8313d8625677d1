"""Alembic environment: runs on the connection handed over by ``migrate.upgrade``."""

from alembic import context
from sqlalchemy import Connection, create_engine

from sentoffers.server.store.migrate import include_object
from sentoffers.server.store.tables import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as own_connection:
        run(own_connection)
