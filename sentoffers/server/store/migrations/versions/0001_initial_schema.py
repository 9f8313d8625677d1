"""Initial schema, seeded with the official error codes.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 05:18:04.844768
"""

import sqlalchemy as sa
from alembic import op

from sentoffers.domain.seed_error_codes import SEED_ERROR_CODES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("app_key", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("app_key", name=op.f("pk_api_keys")),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("vendor", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("logo", sa.Text(), nullable=False),
        sa.Column("created_by_account", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
    )
    op.create_table(
        "error_codes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("solution_text", sa.Text(), nullable=True),
        sa.Column("solution_link", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error_codes")),
    )
    op.create_table(
        "error_occurrences",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("sku_id", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("error_code_id", sa.String(length=64), nullable=False),
        sa.Column("external_code", sa.String(length=200), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("closable_origins", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=True),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("log_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_interaction_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("account", "id", name=op.f("pk_error_occurrences")),
    )
    with op.batch_alter_table("error_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_error_occurrences_code", ["account", "error_code_id", "open"], unique=False
        )
        batch_op.create_index(
            "ix_error_occurrences_offer", ["account", "feed_id", "sku_id", "open"], unique=False
        )

    op.create_table(
        "feeds",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("affiliate_id", sa.String(length=64), nullable=False),
        sa.Column("sales_channel", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account", "feed_id", name=op.f("pk_feeds")),
    )
    op.create_table(
        "interactions",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("sku_id", sa.String(length=128), nullable=False),
        sa.Column("start_date", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("context", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("has_failure", sa.Boolean(), nullable=False),
        sa.Column("has_success", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("last_log_id", sa.String(length=32), nullable=True),
        sa.Column("log_count", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_account_start", ["account", "start_date"], unique=False
        )
        batch_op.create_index(
            "ix_interactions_offer", ["account", "feed_id", "sku_id", "start_date"], unique=False
        )
        batch_op.create_index(
            "ix_interactions_open_activity",
            ["last_activity_at"],
            unique=False,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "logs",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("sku_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id", name=op.f("pk_logs")),
    )
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.create_index("ix_logs_account_created", ["account", "created_at"], unique=False)
        batch_op.create_index(
            "ix_logs_interaction", ["account", "interaction_id", "seq"], unique=False
        )

    op.create_table(
        "offer_status_history",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("sku_id", sa.String(length=128), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("interaction_id", sa.String(length=32), nullable=False),
        sa.Column("log_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "id", name=op.f("pk_offer_status_history")),
    )
    with op.batch_alter_table("offer_status_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offer_status_history_offer",
            ["account", "feed_id", "sku_id", "changed_at"],
            unique=False,
        )

    op.create_table(
        "offers",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("feed_id", sa.String(length=128), nullable=False),
        sa.Column("sku_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("product_id", sa.String(length=128), nullable=True),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("external_offer_id", sa.String(length=200), nullable=True),
        sa.Column("price", sa.String(length=64), nullable=True),
        sa.Column("sales_price", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=16), nullable=True),
        sa.Column("inventory", sa.String(length=64), nullable=True),
        sa.Column("last_interaction_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "feed_id", "sku_id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offers_account_feed_status",
            ["account", "feed_id", "status", "updated_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_offers_account_status", ["account", "status", "updated_at"], unique=False
        )

    op.create_table(
        "unmapped_errors",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("sample_code", sa.String(length=128), nullable=False),
        sa.Column("sample_description", sa.Text(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "fingerprint", name=op.f("pk_unmapped_errors")),
    )

    error_codes = sa.table(
        "error_codes",
        sa.column("id", sa.String),
        sa.column("type", sa.String),
        sa.column("description", sa.Text),
        sa.column("solution_text", sa.Text),
        sa.column("solution_link", sa.Text),
    )
    op.bulk_insert(
        error_codes,
        [
            {
                "id": code.id,
                "type": code.type,
                "description": code.description,
                "solution_text": code.solution_text,
                "solution_link": code.solution_link,
            }
            for code in SEED_ERROR_CODES
        ],
    )


def downgrade() -> None:
    op.drop_table("unmapped_errors")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_account_status")
        batch_op.drop_index("ix_offers_account_feed_status")

    op.drop_table("offers")
    with op.batch_alter_table("offer_status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_status_history_offer")

    op.drop_table("offer_status_history")
    with op.batch_alter_table("logs", schema=None) as batch_op:
        batch_op.drop_index("ix_logs_interaction")
        batch_op.drop_index("ix_logs_account_created")

    op.drop_table("logs")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_interactions_open_activity",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index("ix_interactions_offer")
        batch_op.drop_index("ix_interactions_account_start")

    op.drop_table("interactions")
    op.drop_table("feeds")
    with op.batch_alter_table("error_occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_error_occurrences_offer")
        batch_op.drop_index("ix_error_occurrences_code")

    op.drop_table("error_occurrences")
    op.drop_table("error_codes")
    op.drop_table("channels")
    op.drop_table("api_keys")
