"""Indexes for the offer list at scale: a channel's offers by last update, sorts by name
and SKU, and open errors by code or origin holding the offer's key (the list's error
filters start from the errors).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from sentoffers.server.store.migrate import refresh_sqlite_statistics

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_offers_account_feed_updated", "offers", ["account", "feed_id", "updated_at"]
    )
    op.create_index("ix_offers_account_name", "offers", ["account", "name"])
    op.create_index("ix_offers_account_sku", "offers", ["account", "sku_id"])
    op.drop_index("ix_error_occurrences_code", table_name="error_occurrences")
    op.create_index(
        "ix_error_occurrences_code",
        "error_occurrences",
        ["account", "error_code_id", "open", "feed_id", "sku_id"],
    )
    op.create_index(
        "ix_error_occurrences_origin",
        "error_occurrences",
        ["account", "origin", "open", "feed_id", "sku_id"],
    )
    refresh_sqlite_statistics()


def downgrade() -> None:
    op.drop_index("ix_error_occurrences_origin", table_name="error_occurrences")
    op.drop_index("ix_error_occurrences_code", table_name="error_occurrences")
    op.create_index(
        "ix_error_occurrences_code", "error_occurrences", ["account", "error_code_id", "open"]
    )
    op.drop_index("ix_offers_account_sku", table_name="offers")
    op.drop_index("ix_offers_account_name", table_name="offers")
    op.drop_index("ix_offers_account_feed_updated", table_name="offers")
