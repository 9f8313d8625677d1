"""Offer search: a generated search_text column with a trigram index on each store.

PostgreSQL: pg_trgm and a GIN index. SQLite: an FTS5 table with the trigram tokenizer,
kept in step with the offers by triggers (only when the text changes).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from sentoffers.server.store.tables import SEARCH_TEXT_SQL

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE offers_search USING fts5("
    "search_text, content='offers', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO offers_search(offers_search) VALUES ('rebuild')",
    "CREATE TRIGGER offers_search_insert AFTER INSERT ON offers BEGIN "
    "INSERT INTO offers_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER offers_search_delete AFTER DELETE ON offers BEGIN "
    "INSERT INTO offers_search(offers_search, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER offers_search_update AFTER UPDATE OF sku_id, external_offer_id, name "
    "ON offers WHEN old.search_text IS NOT new.search_text BEGIN "
    "INSERT INTO offers_search(offers_search, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO offers_search(rowid, search_text) VALUES (new.rowid, new.search_text); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS offers_search_update",
    "DROP TRIGGER IF EXISTS offers_search_delete",
    "DROP TRIGGER IF EXISTS offers_search_insert",
    "DROP TABLE IF EXISTS offers_search",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.add_column(
            "offers",
            sa.Column("search_text", sa.Text(), sa.Computed(SEARCH_TEXT_SQL, persisted=True)),
        )
        op.execute(
            "CREATE INDEX ix_offers_search_trgm ON offers USING gin (search_text gin_trgm_ops)"
        )
    else:
        # SQLite adds generated columns as VIRTUAL, computed when read.
        op.execute(f"ALTER TABLE offers ADD COLUMN search_text TEXT AS ({SEARCH_TEXT_SQL})")
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_offers_search_trgm")
    else:
        for statement in SQLITE_DOWN:
            op.execute(statement)
    with op.batch_alter_table("offers") as batch_op:
        batch_op.drop_column("search_text")
