"""The catalog lookup's queue: a partial index on offers that still have no name.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_offers_metadata_pending",
        "offers",
        ["metadata_checked_at"],
        sqlite_where=sa.text("name IS NULL"),
        postgresql_where=sa.text("name IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_offers_metadata_pending", table_name="offers")
