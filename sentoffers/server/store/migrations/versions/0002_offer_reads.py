"""Offer reads: status counts per feed, catalog metadata, indexes for search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:54:00.836872
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_status_counts",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account", "feed_id", "status", name=op.f("pk_offer_status_counts")
        ),
    )
    with op.batch_alter_table("error_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_error_occurrences_feed_code",
            ["account", "feed_id", "open", "error_code_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_error_occurrences_fingerprint", ["account", "fingerprint"], unique=False
        )

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_feed_origin_result",
            ["account", "feed_id", "origin", "result", "start_date"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interactions_feed_start", ["account", "feed_id", "start_date"], unique=False
        )

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("metadata_checked_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_offers_account_brand", ["account", "brand"], unique=False)
        batch_op.create_index("ix_offers_account_category", ["account", "category"], unique=False)
        batch_op.create_index(
            "ix_offers_account_external", ["account", "external_offer_id"], unique=False
        )
        batch_op.create_index("ix_offers_account_updated", ["account", "updated_at"], unique=False)

    # Counts of the offers already stored.
    op.execute(
        "INSERT INTO offer_status_counts (account, feed_id, status, offers) "
        "SELECT account, feed_id, status, count(*) FROM offers GROUP BY account, feed_id, status"
    )


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_account_updated")
        batch_op.drop_index("ix_offers_account_external")
        batch_op.drop_index("ix_offers_account_category")
        batch_op.drop_index("ix_offers_account_brand")
        batch_op.drop_column("metadata_checked_at")

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_feed_start")
        batch_op.drop_index("ix_interactions_feed_origin_result")

    with op.batch_alter_table("error_occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_error_occurrences_fingerprint")
        batch_op.drop_index("ix_error_occurrences_feed_code")

    op.drop_table("offer_status_counts")
