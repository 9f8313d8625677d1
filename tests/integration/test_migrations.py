"""The migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from sentoffers.server.store import migrate
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


def test_a_new_revision_is_numbered_after_the_last_and_needs_nothing_when_tables_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", folder)
    monkeypatch.setattr(migrate, "VERSIONS_DIR", folder / "versions")
    last = max(int(path.name[:4]) for path in (folder / "versions").glob("0*.py"))

    written = migrate.revision("Add a thing: to offers!", autogenerate=True)

    number = f"{last + 1:04d}"
    assert written == folder / "versions" / f"{number}_add_a_thing_to_offers.py"
    source = written.read_text()
    assert f"revision = '{number}'" in source
    assert f"down_revision = '{last:04d}'" in source
    upgrade_body = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "op." not in upgrade_body  # the migrations already give the declared tables
