"""Closing interactions that connectors forgot, so no offer stays in Sending forever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from sentoffers.domain import rules
from sentoffers.domain.model import OfferStatus, State
from sentoffers.server.store import offers as offer_store
from sentoffers.server.store.offers import OfferChanges
from sentoffers.server.store.tables import interactions, offer_status_history
from sentoffers.sql.db import Database


def _status_before_sending(
    conn: Connection, account: str, feed_id: str, sku_id: str
) -> OfferStatus | None:
    row = conn.execute(
        select(offer_status_history.c.from_status)
        .where(
            offer_status_history.c.account == account,
            offer_status_history.c.feed_id == feed_id,
            offer_status_history.c.sku_id == sku_id,
            offer_status_history.c.to_status == OfferStatus.SENDING.value,
        )
        .order_by(offer_status_history.c.changed_at.desc())
        .limit(1)
    ).first()
    return OfferStatus(row.from_status) if row and row.from_status else None


def close_idle_interactions(
    db: Database, idle_timeout: timedelta, now: datetime | None = None, *, limit: int = 1000
) -> int:
    """Close up to ``limit`` interactions with no new log for longer than ``idle_timeout``."""
    now = now or datetime.now(UTC)
    cutoff = now - idle_timeout
    with db.unit_of_work(write=False) as uow:
        candidates = uow.conn.execute(
            select(
                interactions.c.account,
                interactions.c.id,
                interactions.c.feed_id,
                interactions.c.sku_id,
            )
            .where(interactions.c.state == State.OPEN.value)
            .where(interactions.c.last_activity_at < cutoff)
            .order_by(interactions.c.last_activity_at)
            .limit(limit)
        ).all()
    closed = 0
    for account, interaction_id, feed_id, sku_id in candidates:
        with db.unit_of_work() as uow:
            offer = offer_store.lock_offers(
                uow.conn, account, feed_id, [sku_id], with_errors=True
            ).get(sku_id)
            interaction = offer_store.lock_interaction(
                uow.conn, account, feed_id, sku_id, interaction_id
            )
            # Another writer may have logged or closed it since it was read.
            if offer is None or interaction is None:
                continue
            if not rules.is_idle(interaction, now, idle_timeout):
                continue
            before = _status_before_sending(uow.conn, account, feed_id, sku_id)
            log, effects = rules.close_idle_interaction(
                offer, interaction, now, idle_timeout, before
            )
            changes = OfferChanges(account)
            changes.record(offer, interaction, effects, log)
            offer_store.save(uow.conn, changes, now)
            uow.commit()
            closed += 1
    return closed
