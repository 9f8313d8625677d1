"""Cheap version stamps of an offer and of an interaction, for pages that update live.

A stamp is an opaque string that changes whenever what a page shows may have changed; each
is one primary-key lookup, cheap enough to poll about once a second per open page.

Ids arrive normalised (``sentoffers.domain.ids``, applied by the web UI to its paths) and
are matched as given.
"""

from __future__ import annotations

from sqlalchemy import select

from sentoffers.server.store.tables import feeds, interactions, offers
from sentoffers.sql.db import Database

GONE = "gone"


def offer_version(db: Database, account: str, feed_id: str, sku_id: str) -> str:
    """Changes with every interaction, log and close on the offer (each moves
    ``updated_at``), and when its feed is deactivated; ``gone`` if it is not shown."""
    with db.unit_of_work(write=False) as uow:
        row = uow.conn.execute(
            select(offers.c.updated_at, offers.c.status, offers.c.last_interaction_id)
            .join(feeds, (feeds.c.account == offers.c.account) & (feeds.c.feed_id == feed_id))
            .where(
                offers.c.account == account,
                offers.c.feed_id == feed_id,
                offers.c.sku_id == sku_id,
                feeds.c.active.is_(True),
            )
        ).first()
    if row is None or row.last_interaction_id is None:
        return GONE
    return f"{row.updated_at.isoformat()}|{row.status}|{row.last_interaction_id}"


def interaction_version(
    db: Database, account: str, feed_id: str, sku_id: str, interaction_id: str
) -> str:
    """Changes with every log and with the close; ``gone`` once purged or not shown."""
    with db.unit_of_work(write=False) as uow:
        row = uow.conn.execute(
            select(
                interactions.c.state,
                interactions.c.result,
                interactions.c.log_count,
                interactions.c.last_log_id,
            )
            .join(feeds, (feeds.c.account == interactions.c.account) & (feeds.c.feed_id == feed_id))
            .where(
                feeds.c.active.is_(True),
                interactions.c.account == account,
                interactions.c.id == interaction_id,
                interactions.c.feed_id == feed_id,
                interactions.c.sku_id == sku_id,
            )
        ).first()
    if row is None:
        return GONE
    return f"{row.state}|{row.result}|{row.log_count}|{row.last_log_id or ''}"
