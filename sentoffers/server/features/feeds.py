"""Activating, reading, updating and deactivating feeds.

A feed's id is its channel's id. Activating an active feed is a conflict (connectors then
call Update Feed); activating a deactivated one reactivates it with the data it had.
Deactivation hides a feed's data and deletes nothing.

Feed ids arrive normalised (``sentoffers.domain.ids.normalize_feed_id``, applied by the API
and the web UI, and by ``FeedCreate`` to the id it reads) and are matched as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, insert, select, true, update

from sentoffers.contract.feeds import FeedCreate, FeedCreated, FeedRead, FeedUpdate
from sentoffers.domain.errors import Conflict, NotFound
from sentoffers.server.store.tables import channels, feeds
from sentoffers.sql.db import Database


def _feed_row(conn: Connection, account: str, feed_id: str) -> dict[str, object] | None:
    row = conn.execute(
        select(feeds).where(feeds.c.account == account, feeds.c.feed_id == feed_id)
    ).first()
    return dict(row._mapping) if row else None


@dataclass(frozen=True, slots=True)
class AccountFeeds:
    """An account's feeds, read once per request: which show, and their channels."""

    channels: dict[str, tuple[str, str]]  # active feed id -> (channel name, logo)
    inactive: frozenset[str]

    def visible(self, feed_column: Any) -> ColumnElement[bool]:
        """Rows of active feeds only.

        Written as NOT IN the few deactivated feeds: a condition no planner drives a query
        from, so lists walk their own (account, ...) indexes in order and stop early.
        """
        if not self.inactive:
            return true()
        condition: ColumnElement[bool] = feed_column.not_in(sorted(self.inactive))
        return condition

    def among(self, wanted: Iterable[str]) -> list[str]:
        """The active feeds among ``wanted``."""
        return sorted(set(wanted) & self.channels.keys())


def account_feeds(conn: Connection, account: str) -> AccountFeeds:
    rows = conn.execute(
        select(feeds.c.feed_id, feeds.c.active, channels.c.name, channels.c.logo)
        .join(channels, channels.c.id == feeds.c.feed_id)
        .where(feeds.c.account == account)
    )
    active: dict[str, tuple[str, str]] = {}
    inactive = set()
    for feed_id, is_active, name, logo in rows:
        if is_active:
            active[feed_id] = (name, logo)
        else:
            inactive.add(feed_id)
    return AccountFeeds(active, frozenset(inactive))


def require_active(conn: Connection, account: str, feed_id: str) -> None:
    """Raise unless ``feed_id`` is an active feed of ``account``: 404 unknown, 409 inactive."""
    row = conn.execute(
        select(feeds.c.active).where(feeds.c.account == account, feeds.c.feed_id == feed_id)
    ).first()
    if row is None:
        raise NotFound(f"feed {feed_id!r} does not exist in account {account!r}", field="feedId")
    if not row.active:
        raise Conflict(
            f"feed {feed_id!r} is deactivated; activate it again before writing to it",
            code="feed_deactivated",
            field="feedId",
        )


def require_visible(conn: Connection, account: str, feed_id: str) -> None:
    """Reads see only active feeds: a deactivated feed's data is hidden, as if absent."""
    row = conn.execute(
        select(feeds.c.active).where(feeds.c.account == account, feeds.c.feed_id == feed_id)
    ).first()
    if row is None or not row.active:
        raise NotFound(f"feed {feed_id!r} does not exist or is deactivated", field="feedId")


def activate(db: Database, account: str, body: FeedCreate) -> FeedCreated:
    feed_id = body.id
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        conn = uow.conn
        if not conn.execute(select(channels.c.id).where(channels.c.id == feed_id)).first():
            raise NotFound(
                f"channel {feed_id!r} does not exist; create it with Create Channel first",
                code="channel_not_found",
                field="id",
            )
        existing = _feed_row(conn, account, feed_id)
        values = {
            "affiliate_id": body.affiliate_id.strip(),
            "sales_channel": body.sales_channel.strip(),
            "active": True,
            "updated_at": now,
            "deactivated_at": None,
        }
        if existing is None:
            conn.execute(
                insert(feeds).values(account=account, feed_id=feed_id, created_at=now, **values)
            )
        elif existing["active"]:
            raise Conflict(
                f"feed {feed_id!r} is already active; use Update Feed to change it",
                code="feed_active",
                field="id",
            )
        else:
            conn.execute(
                update(feeds)
                .where(feeds.c.account == account, feeds.c.feed_id == feed_id)
                .values(**values)
            )
        uow.commit()
    return FeedCreated(
        account=account,
        id=feed_id,
        affiliate_id=values["affiliate_id"],
        sales_channel=values["sales_channel"],
    )


def _read_query() -> Select[Any]:
    return select(
        feeds.c.account,
        feeds.c.feed_id,
        feeds.c.affiliate_id,
        feeds.c.sales_channel,
        channels.c.name,
        channels.c.logo,
    ).join(channels, channels.c.id == feeds.c.feed_id)


def _to_read(row: object) -> FeedRead:
    m = row._mapping  # type: ignore[attr-defined]
    return FeedRead(
        account=m["account"],
        id=m["feed_id"],
        affiliate_id=m["affiliate_id"],
        sales_channel=m["sales_channel"],
        channel_name=m["name"],
        channel_logo=m["logo"],
    )


def list_feeds(db: Database, account: str) -> list[FeedRead]:
    """The account's active feeds."""
    with db.unit_of_work(write=False) as uow:
        rows = uow.conn.execute(
            _read_query()
            .where(feeds.c.account == account, feeds.c.active.is_(True))
            .order_by(feeds.c.feed_id)
        )
        return [_to_read(row) for row in rows]


def get(db: Database, account: str, feed_id: str) -> FeedRead:
    with db.unit_of_work(write=False) as uow:
        row = uow.conn.execute(
            _read_query().where(
                feeds.c.account == account,
                feeds.c.feed_id == feed_id,
                feeds.c.active.is_(True),
            )
        ).first()
    if row is None:
        raise NotFound(f"feed {feed_id!r} does not exist or is deactivated", field="feedId")
    return _to_read(row)


def update_feed(db: Database, account: str, feed_id: str, body: FeedUpdate) -> None:
    with db.unit_of_work() as uow:
        require_active(uow.conn, account, feed_id)
        uow.conn.execute(
            update(feeds)
            .where(feeds.c.account == account, feeds.c.feed_id == feed_id)
            .values(
                affiliate_id=body.affiliate_id.strip(),
                sales_channel=body.sales_channel.strip(),
                updated_at=datetime.now(UTC),
            )
        )
        uow.commit()


def deactivate(db: Database, account: str, feed_id: str) -> None:
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        existing = _feed_row(uow.conn, account, feed_id)
        if existing is None:
            raise NotFound(f"feed {feed_id!r} does not exist in account {account!r}")
        if not existing["active"]:
            raise Conflict(f"feed {feed_id!r} is already deactivated", code="feed_deactivated")
        uow.conn.execute(
            update(feeds)
            .where(feeds.c.account == account, feeds.c.feed_id == feed_id)
            .values(active=False, deactivated_at=now, updated_at=now)
        )
        uow.commit()
