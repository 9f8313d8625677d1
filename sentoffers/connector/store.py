"""The connector's own small database: the states table, the approval queue, and the
categories the sellers mapped (the work ledger, ``ledger.py``, lives here too).

- ``sku_states``: per store and SKU, the last attempt, its date, the response and the state,
  with both ids (VTEX's SKU id, the marketplace's listing id) and the values last sent: what
  "Keeping a states table" in the document asks for, so nothing loops forever.
- ``approval_queue``: SKUs whose category is not mapped yet, released once it is.
- ``category_map``: a seller's mappings, over the adapter's defaults.

SQLAlchemy Core on its own SQLite file by default (or any URL); tables are created on start.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)

from sentoffers.connector.model import SkuRecord, SkuState
from sentoffers.sql.db import Database, create_db_engine

__all__ = ["StateStore", "metadata"]

metadata = MetaData()

sku_states = Table(
    "sku_states",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("sku_id", String(128), primary_key=True),
    Column("state", String(32), nullable=False, index=True),
    Column("product_id", String(128)),
    Column("marketplace_id", String(128)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_response", Text),
    Column("error_codes", Text, nullable=False, default=""),
    Column("price", Integer),
    Column("selling_price", Integer),
    Column("inventory", Integer),
    Column("active_in_marketplace", Boolean, nullable=False, default=True),
    Column("category_id", Integer),
)

approval_queue = Table(
    "approval_queue",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("sku_id", String(128), primary_key=True),
    Column("category_id", Integer, index=True),
    Column("category_name", String(200)),
    Column("queued_at", DateTime(timezone=True), nullable=False),
)

category_map = Table(
    "category_map",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("category_id", Integer, primary_key=True),
    Column("marketplace_category", String(200), nullable=False),
    Column("mapped_at", DateTime(timezone=True), nullable=False),
)

RESPONSE_LIMIT = 2000


def _now() -> datetime:
    return datetime.now(UTC)


def _record(row: Any) -> SkuRecord:
    m = row._mapping
    attempted = m["last_attempt_at"]
    return SkuRecord(
        account=m["account"],
        sku_id=m["sku_id"],
        state=SkuState(m["state"]),
        product_id=m["product_id"],
        marketplace_id=m["marketplace_id"],
        attempts=m["attempts"],
        last_attempt_at=attempted.isoformat() if attempted else None,
        last_response=m["last_response"],
        error_codes=tuple(code for code in m["error_codes"].split(",") if code),
        price=m["price"],
        selling_price=m["selling_price"],
        inventory=m["inventory"],
        active_in_marketplace=m["active_in_marketplace"],
        category_id=m["category_id"],
    )


class StateStore:
    """The connector's tables in ``database_url``."""

    def __init__(self, database_url: str):
        self.db = Database(create_db_engine(database_url, pool_size=4))
        metadata.create_all(self.db.engine)
        self._mappings: dict[str, dict[int, str]] = {}

    def close(self) -> None:
        self.db.dispose()

    # states --------------------------------------------------------------------------------

    def get(self, account: str, sku_id: str) -> SkuRecord | None:
        """The SKU's row, or ``None`` before its first attempt."""
        with self.db.unit_of_work(write=False) as uow:
            row = uow.conn.execute(
                select(sku_states).where(
                    sku_states.c.account == account, sku_states.c.sku_id == sku_id
                )
            ).first()
        return _record(row) if row else None

    def save(self, record: SkuRecord, *, attempted: bool = True) -> SkuRecord:
        """Write the SKU's row (stamping the attempt's date unless told not to)."""
        when = _now() if attempted else None
        values: dict[str, Any] = {
            "state": record.state.value,
            "product_id": record.product_id,
            "marketplace_id": record.marketplace_id,
            "attempts": record.attempts,
            "last_response": (record.last_response or "")[:RESPONSE_LIMIT] or None,
            "error_codes": ",".join(record.error_codes),
            "price": record.price,
            "selling_price": record.selling_price,
            "inventory": record.inventory,
            "active_in_marketplace": record.active_in_marketplace,
            "category_id": record.category_id,
        }
        if when is not None:
            values["last_attempt_at"] = when
        key = and_(sku_states.c.account == record.account, sku_states.c.sku_id == record.sku_id)
        with self.db.unit_of_work() as uow:
            changed = uow.conn.execute(update(sku_states).where(key).values(**values)).rowcount
            if not changed:
                uow.conn.execute(
                    insert(sku_states).values(
                        account=record.account, sku_id=record.sku_id, **values
                    )
                )
            uow.commit()
        if when is not None:
            return replace(record, last_attempt_at=when.isoformat())
        return record

    def records(self, account: str | None = None) -> list[SkuRecord]:
        """Every row (of one store), by SKU id."""
        stmt = select(sku_states).order_by(sku_states.c.account, sku_states.c.sku_id)
        if account is not None:
            stmt = stmt.where(sku_states.c.account == account)
        with self.db.unit_of_work(write=False) as uow:
            return [_record(row) for row in uow.conn.execute(stmt)]

    def listed(self, account: str, *, after: str = "", limit: int = 50) -> list[SkuRecord]:
        """Listed, unblocked SKUs of a store in SKU id order, from ``after`` (for sweeps)."""
        stmt = (
            select(sku_states)
            .where(
                sku_states.c.account == account,
                sku_states.c.marketplace_id.is_not(None),
                sku_states.c.active_in_marketplace.is_(True),
                sku_states.c.sku_id > after,
            )
            .order_by(sku_states.c.sku_id)
            .limit(limit)
        )
        with self.db.unit_of_work(write=False) as uow:
            return [_record(row) for row in uow.conn.execute(stmt)]

    def counts(self, account: str | None = None) -> dict[str, int]:
        """SKUs per state."""
        stmt = select(sku_states.c.state, func.count()).group_by(sku_states.c.state)
        if account is not None:
            stmt = stmt.where(sku_states.c.account == account)
        with self.db.unit_of_work(write=False) as uow:
            return {str(state): int(count) for state, count in uow.conn.execute(stmt).all()}

    # approval queue and category map -------------------------------------------------------

    def hold(self, account: str, sku_id: str, category_id: int | None, name: str | None) -> None:
        """Put a SKU in the approval queue until its category is mapped."""
        key = and_(approval_queue.c.account == account, approval_queue.c.sku_id == sku_id)
        with self.db.unit_of_work() as uow:
            uow.conn.execute(delete(approval_queue).where(key))
            uow.conn.execute(
                insert(approval_queue).values(
                    account=account,
                    sku_id=sku_id,
                    category_id=category_id,
                    category_name=name,
                    queued_at=_now(),
                )
            )
            uow.commit()

    def forget_hold(self, account: str, sku_id: str) -> None:
        """Take a SKU out of the approval queue (its category is mapped now, or it left)."""
        with self.db.unit_of_work() as uow:
            uow.conn.execute(
                delete(approval_queue).where(
                    approval_queue.c.account == account, approval_queue.c.sku_id == sku_id
                )
            )
            uow.commit()

    def waiting(self, account: str) -> list[tuple[str, int | None, str | None]]:
        """(SKU id, category id, category name) of the SKUs in the approval queue."""
        queued = approval_queue.c
        stmt = (
            select(queued.sku_id, queued.category_id, queued.category_name)
            .where(queued.account == account)
            .order_by(queued.sku_id)
        )
        with self.db.unit_of_work(write=False) as uow:
            return [tuple(row) for row in uow.conn.execute(stmt)]

    def map_category(self, account: str, category_id: int, marketplace_category: str) -> list[str]:
        """Record a seller's mapping; returns the SKUs it releases from the approval queue."""
        with self.db.unit_of_work() as uow:
            key = and_(category_map.c.account == account, category_map.c.category_id == category_id)
            uow.conn.execute(delete(category_map).where(key))
            uow.conn.execute(
                insert(category_map).values(
                    account=account,
                    category_id=category_id,
                    marketplace_category=marketplace_category,
                    mapped_at=_now(),
                )
            )
            held = and_(
                approval_queue.c.account == account, approval_queue.c.category_id == category_id
            )
            released = [row.sku_id for row in uow.conn.execute(select(approval_queue).where(held))]
            uow.conn.execute(delete(approval_queue).where(held))
            uow.commit()
        self._mappings.pop(account, None)
        return released

    def category_overrides(self, account: str) -> dict[int, str]:
        """The store's own category mappings (cached; refreshed when one is written)."""
        cached = self._mappings.get(account)
        if cached is None:
            stmt = select(category_map.c.category_id, category_map.c.marketplace_category).where(
                category_map.c.account == account
            )
            with self.db.unit_of_work(write=False) as uow:
                cached = {row[0]: row[1] for row in uow.conn.execute(stmt)}
            self._mappings[account] = cached
        return cached
