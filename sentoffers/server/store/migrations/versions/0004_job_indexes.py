"""Partial indexes for the background jobs: the catalog lookup's queue (offers with no
name yet) and the purge's walk over closed interactions by age.

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
    op.create_index(
        "ix_interactions_closed",
        "interactions",
        ["account", "closed_at"],
        sqlite_where=sa.text("state = 'closed'"),
        postgresql_where=sa.text("state = 'closed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_closed", table_name="interactions")
    op.drop_index("ix_offers_metadata_pending", table_name="offers")
