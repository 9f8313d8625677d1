"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from sentoffers.server.store.migrate import downgrade, include_object, upgrade
from sentoffers.server.store.tables import metadata
from sentoffers.sql.db import Database


def test_migrated_schema_matches_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_migration_seeds_the_official_error_codes_without_placeholders(db: Database) -> None:
    with db.engine.connect() as conn:
        ids = {row[0] for row in conn.execute(text("SELECT id FROM error_codes"))}
    assert len(ids) == 17
    assert {"AUTH-001", "CTLG-001", "CTLG-012", "INVNT-001", "NTMAP-001", "PRICE-001"} <= ids
    assert not {"CTLG-XXX", "CTLG-YYY"} & ids


def test_upgrade_is_idempotent_and_downgrade_removes_everything(db: Database) -> None:
    upgrade(db.engine)
    downgrade(db.engine, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(db.engine)
    assert "offers" in inspect(db.engine).get_table_names()
