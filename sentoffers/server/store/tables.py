"""The schema, in SQLAlchemy Core.

Every table of seller data carries ``account`` and every key starts with it, so the data
can be sharded by account (Citus distribution column) without a schema change. Channels,
error codes and API keys are global reference tables (an account's own solutions for error
codes are seller data, in ``error_code_overrides``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Computed,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)

from sentoffers.domain.ids import MAX_CHANNEL_ID_LENGTH
from sentoffers.domain.model import OFFER_FIELDS, OfferField


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


SEARCH_TEXT_SQL = (
    "lower(feed_id || ' ' || sku_id || ' ' || coalesce(external_offer_id, '') || ' ' "
    "|| coalesce(name, ''))"
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
ACCOUNT = String(128)
FEED = String(MAX_CHANNEL_ID_LENGTH)  # a feed is named by its channel
SKU = String(128)

api_keys = Table(
    "api_keys",
    metadata,
    Column("app_key", String(64), primary_key=True),
    Column("token_hash", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("accounts", JSON, nullable=False),
    Column("label", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

channels = Table(
    "channels",
    metadata,
    Column("id", FEED, primary_key=True),
    Column("vendor", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("logo", Text, nullable=False),
    Column("created_by_account", ACCOUNT),
    Column("created_at", UTCDateTime, nullable=False),
)

error_codes = Table(
    "error_codes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("solution_text", Text),
    Column("solution_link", Text),
)

# An account's own solution for a global error code, shown on that account's offers in place
# of the global one. Set by the account's admins; the global code stays the platform's.
error_code_overrides = Table(
    "error_code_overrides",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("error_code_id", String(64), primary_key=True),
    Column("solution_text", Text),
    Column("solution_link", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

feeds = Table(
    "feeds",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("feed_id", FEED, primary_key=True),
    Column("affiliate_id", String(64), nullable=False),
    Column("sales_channel", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deactivated_at", UTCDateTime),
)


def _offer_field_column(offer_field: OfferField) -> Column[str]:
    """An offer field's column: as long as its longest value, text past a short line."""
    length = offer_field.max_length
    return Column(offer_field.name, String(length) if length <= 255 else Text)


offers = Table(
    "offers",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("feed_id", FEED, primary_key=True),
    Column("sku_id", SKU, primary_key=True),
    Column("status", String(16), nullable=False),
    *(_offer_field_column(f) for f in OFFER_FIELDS),
    Column("last_interaction_id", ID),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the offer entered its status: how long it has been Sending (stuck past a time).
    Column("status_since", UTCDateTime),
    # When the catalog was last asked for the offer's name, image, brand and category.
    Column("metadata_checked_at", UTCDateTime),
    # What the search box matches, kept by the database itself; indexed by trigrams
    # (pg_trgm on PostgreSQL, an FTS5 trigram table on SQLite: see migration 0003).
    Column("search_text", Text, Computed(SEARCH_TEXT_SQL)),
    Index("ix_offers_account_status", "account", "status", "updated_at"),
    # The status beside the key: offers looked up by key (from their open errors) are
    # checked for their status, and whether they are stuck, from the index alone.
    Index("ix_offers_key_status", "account", "feed_id", "sku_id", "status", "status_since"),
    Index("ix_offers_account_feed_status", "account", "feed_id", "status", "updated_at"),
    # Stuck offers: those in Sending since before a cutoff, a range of this index.
    Index("ix_offers_account_status_since", "account", "status", "status_since"),
    Index("ix_offers_account_updated", "account", "updated_at"),
    Index("ix_offers_account_feed_updated", "account", "feed_id", "updated_at"),
    Index("ix_offers_account_name", "account", "name"),
    Index("ix_offers_account_sku", "account", "sku_id"),
    Index("ix_offers_account_brand", "account", "brand"),
    Index("ix_offers_account_category", "account", "category"),
    Index("ix_offers_account_external", "account", "external_offer_id"),
    # The catalog lookup's queue: offers still without a name.
    Index(
        "ix_offers_metadata_pending",
        "metadata_checked_at",
        sqlite_where=text("name IS NULL"),
        postgresql_where=text("name IS NULL"),
    ),
)

# How many offers each feed has in each status, kept with every status change, so the
# counts a seller sees never need a scan of the offers.
offer_status_counts = Table(
    "offer_status_counts",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("feed_id", FEED, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("offers", Integer, nullable=False),
)

interactions = Table(
    "interactions",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("feed_id", FEED, nullable=False),
    Column("sku_id", SKU, nullable=False),
    Column("start_date", UTCDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("context", String(16), nullable=False),
    Column("state", String(8), nullable=False),
    Column("result", String(16), nullable=False),
    Column("has_failure", Boolean, nullable=False),
    Column("has_success", Boolean, nullable=False),
    Column("data", JSON),
    Column("last_log_id", ID),
    Column("log_count", Integer, nullable=False),
    Column("last_activity_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_interactions_offer", "account", "feed_id", "sku_id", "start_date"),
    Index("ix_interactions_account_start", "account", "start_date"),
    Index("ix_interactions_feed_start", "account", "feed_id", "start_date"),
    Index(
        "ix_interactions_feed_origin_result", "account", "feed_id", "origin", "result", "start_date"
    ),
    # The purge takes each account's closed interactions by age.
    Index(
        "ix_interactions_closed",
        "account",
        "closed_at",
        sqlite_where=text("state = 'closed'"),
        postgresql_where=text("state = 'closed'"),
    ),
    # Only open interactions are swept for idleness; the partial index stays small.
    Index(
        "ix_interactions_open_activity",
        "last_activity_at",
        sqlite_where=text("state = 'open'"),
        postgresql_where=text("state = 'open'"),
    ),
)

logs = Table(
    "logs",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("interaction_id", ID, nullable=False),
    Column("feed_id", FEED, nullable=False),
    Column("sku_id", SKU, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Column("type", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("agent", String(200), nullable=False),
    Column("evidence", JSON),
    Column("data", JSON),
    Column("errors", JSON),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_logs_interaction", "account", "interaction_id", "seq"),
    Index("ix_logs_account_created", "account", "created_at"),
)

error_occurrences = Table(
    "error_occurrences",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("feed_id", FEED, nullable=False),
    Column("sku_id", SKU, nullable=False),
    Column("code", String(128), nullable=False),
    Column("error_code_id", String(64), nullable=False),
    Column("external_code", String(200)),
    Column("title", Text),
    Column("description", Text),
    Column("closable_origins", JSON, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("fingerprint", String(32)),
    Column("interaction_id", ID, nullable=False),
    Column("log_id", ID, nullable=False),
    Column("date", UTCDateTime, nullable=False),
    Column("open", Boolean, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("closed_by_interaction_id", ID),
    Index("ix_error_occurrences_offer", "account", "feed_id", "sku_id", "open"),
    Index("ix_error_occurrences_code", "account", "error_code_id", "open", "feed_id", "sku_id"),
    Index("ix_error_occurrences_origin", "account", "origin", "open", "feed_id", "sku_id"),
    Index("ix_error_occurrences_feed_code", "account", "feed_id", "open", "error_code_id"),
    Index("ix_error_occurrences_fingerprint", "account", "fingerprint"),
)

offer_status_history = Table(
    "offer_status_history",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("feed_id", FEED, nullable=False),
    Column("sku_id", SKU, nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("interaction_id", ID, nullable=False),
    Column("log_id", ID),
    Column("reason", Text, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Index("ix_offer_status_history_offer", "account", "feed_id", "sku_id", "changed_at"),
)

unmapped_errors = Table(
    "unmapped_errors",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("fingerprint", String(32), primary_key=True),
    Column("sample_code", String(128), nullable=False),
    Column("sample_description", Text, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

# The answers of POSTs sent with an ``Idempotency-Key``, per (account, key): while the first
# request runs, ``status_code`` is null (the claim); then it holds what was answered, for
# retries to be answered the same. Rows older than the TTL no longer count and are purged.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account", ACCOUNT, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer),
    Column("content_type", String(255)),
    Column("body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    # The purge takes expired keys by age, whatever their account.
    Index("ix_idempotency_keys_created", "created_at"),
)
