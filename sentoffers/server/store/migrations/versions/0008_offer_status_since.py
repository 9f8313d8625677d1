"""When each offer entered its status, so that offers in Sending for too long (stuck) are
found by a range of an index rather than a scan, and counted beside their status from the
key index alone (the list filtered by open errors looks offers up by key).

Existing offers take the time of their last move to their current status from the status
history, or their last update when the history has none.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from sentoffers.server.store.migrate import refresh_sqlite_statistics

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offers", sa.Column("status_since", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE offers SET status_since = COALESCE(("
        "SELECT MAX(h.changed_at) FROM offer_status_history h"
        " WHERE h.account = offers.account AND h.feed_id = offers.feed_id"
        " AND h.sku_id = offers.sku_id AND h.to_status = offers.status"
        "), updated_at)"
    )
    op.create_index(
        "ix_offers_account_status_since", "offers", ["account", "status", "status_since"]
    )
    op.drop_index("ix_offers_key_status", table_name="offers")
    op.create_index(
        "ix_offers_key_status", "offers", ["account", "feed_id", "sku_id", "status", "status_since"]
    )
    refresh_sqlite_statistics()


def downgrade() -> None:
    op.drop_index("ix_offers_key_status", table_name="offers")
    op.create_index("ix_offers_key_status", "offers", ["account", "feed_id", "sku_id", "status"])
    op.drop_index("ix_offers_account_status_since", table_name="offers")
    op.drop_column("offers", "status_since")
