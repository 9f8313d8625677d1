"""Retention: logs and closed interactions are purged once older than the retention period.

What an offer needs to be shown stays: the offer itself, its status history, its error
occurrences (with their title, code, date and origin copied onto them), the unmapped-error
tallies and the status counts. Only the details of interactions go: their logs (by server
receipt time, ``created_at``) and the closed interactions themselves (by ``closed_at``).
Open interactions are never purged; the idle sweep closes them first. Idempotency keys
older than their TTL (24 h by default) no longer count, and go too.

The purge works account by account and deletes in chunks of at most ``chunk_rows`` rows,
each in a transaction of its own: the keys of a chunk are selected through an index that
starts with ``account``, then deleted by key. Writers and readers are never held up for
long, and a huge purge never makes one giant transaction. Every step can be re-run: a
purge interrupted half-way is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
)

from sentoffers.domain.errors import Gone
from sentoffers.domain.model import State
from sentoffers.server.store.tables import (
    error_occurrences,
    idempotency_keys,
    interactions,
    logs,
    offer_status_history,
    offers,
)
from sentoffers.sql.db import Database

DEFAULT_CHUNK_ROWS = 5000
DEFAULT_IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one purge deleted, and in how many transactions."""

    cutoff: datetime
    logs: int = 0
    interactions: int = 0
    accounts: int = 0
    transactions: int = 0
    idempotency_keys: int = 0

    def describe(self) -> str:
        said = (
            f"purged {self.logs} log(s) and {self.interactions} closed interaction(s) "
            f"older than {self.cutoff.isoformat()} in {self.accounts} account(s)"
        )
        if self.idempotency_keys:
            said += f", and {self.idempotency_keys} expired idempotency key(s)"
        return said

    @property
    def deleted_anything(self) -> bool:
        return bool(self.logs or self.interactions or self.idempotency_keys)


def purge_expired(
    db: Database,
    retention: timedelta,
    now: datetime | None = None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL,
) -> PurgeReport:
    """Delete the logs and closed interactions older than ``now - retention``, and the
    idempotency keys older than ``now - idempotency_ttl``."""
    if retention <= timedelta(0):
        raise ValueError("the retention period must be positive")
    if idempotency_ttl <= timedelta(0):
        raise ValueError("the idempotency key TTL must be positive")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    now = now or datetime.now(UTC)
    cutoff = now - retention
    purge = _Purge(db, cutoff, chunk_rows)
    for account in _accounts(db):
        purge.account(account)
    purge.expired_idempotency_keys(now - idempotency_ttl)
    return PurgeReport(
        cutoff=cutoff,
        logs=purge.logs,
        interactions=purge.interactions,
        accounts=purge.accounts,
        transactions=purge.transactions,
        idempotency_keys=purge.keys,
    )


def _accounts(db: Database) -> list[str]:
    """The accounts that have interactions, walked one ``min(account) > last`` at a time.

    Each step is one probe of the primary key index, so no step scans the whole table (a
    plain ``SELECT DISTINCT`` would, on both backends).
    """
    found: list[str] = []
    last: str | None = None
    with db.unit_of_work(write=False) as uow:
        while True:
            query = select(func.min(interactions.c.account))
            if last is not None:
                query = query.where(interactions.c.account > last)
            account = uow.conn.execute(query).scalar()
            if account is None:
                return found
            found.append(account)
            last = account


class _Purge:
    def __init__(self, db: Database, cutoff: datetime, chunk_rows: int):
        self.db = db
        self.cutoff = cutoff
        self.chunk_rows = chunk_rows
        self.logs = 0
        self.interactions = 0
        self.accounts = 0
        self.transactions = 0
        self.keys = 0

    def account(self, account: str) -> None:
        before = (self.logs, self.interactions)
        self._old_logs(account)
        self._closed_interactions(account)
        if (self.logs, self.interactions) != before:
            self.accounts += 1

    def _old_logs(self, account: str) -> None:
        """Logs received before the cutoff, oldest first, through ``(account, created_at)``."""
        while True:
            with self.db.unit_of_work() as uow:
                keys = (
                    uow.conn.execute(
                        select(logs.c.id)
                        .where(logs.c.account == account, logs.c.created_at < self.cutoff)
                        .order_by(logs.c.created_at)
                        .limit(self.chunk_rows)
                    )
                    .scalars()
                    .all()
                )
                if not keys:
                    return
                self.logs += _delete_logs(uow.conn, account, keys)
                uow.commit()
            self.transactions += 1
            if len(keys) < self.chunk_rows:
                return

    def _closed_interactions(self, account: str) -> None:
        """Closed interactions older than the cutoff, oldest first, their logs first.

        The partial index on ``(account, closed_at)`` of closed interactions hands out each
        chunk directly; deleted rows leave it, so every chunk starts from the oldest left.
        """
        while True:
            with self.db.unit_of_work() as uow:
                keys = (
                    uow.conn.execute(
                        select(interactions.c.id)
                        .where(interactions.c.account == account, *self._expired())
                        .order_by(interactions.c.closed_at)
                        .limit(self.chunk_rows)
                    )
                    .scalars()
                    .all()
                )
                if not keys:
                    return
                # Their logs are normally gone already (no log is received after its
                # interaction closed), but none may outlive its interaction: any left are
                # deleted first, a chunk at a time, and the same interactions taken again.
                leftover = (
                    uow.conn.execute(
                        select(logs.c.id)
                        .where(logs.c.account == account, logs.c.interaction_id.in_(keys))
                        .limit(self.chunk_rows)
                    )
                    .scalars()
                    .all()
                )
                if leftover:
                    self.logs += _delete_logs(uow.conn, account, leftover)
                    uow.commit()
                    self.transactions += 1
                    continue
                deleted = uow.conn.execute(
                    delete(interactions).where(
                        interactions.c.account == account,
                        interactions.c.id.in_(keys),
                        *self._expired(),
                    )
                ).rowcount
                uow.commit()
            self.interactions += deleted
            self.transactions += 1
            if len(keys) < self.chunk_rows:
                return

    def expired_idempotency_keys(self, cutoff: datetime) -> None:
        """Idempotency keys created before ``cutoff``, oldest first, through their
        ``created_at`` index, whatever their account. A key taken over by a new request
        since its chunk was selected is newer than the cutoff again, and stays."""
        while True:
            with self.db.unit_of_work() as uow:
                keys = uow.conn.execute(
                    select(idempotency_keys.c.account, idempotency_keys.c.key)
                    .where(idempotency_keys.c.created_at < cutoff)
                    .order_by(idempotency_keys.c.created_at)
                    .limit(self.chunk_rows)
                ).all()
                if not keys:
                    return
                self.keys += uow.conn.execute(
                    delete(idempotency_keys).where(
                        tuple_(idempotency_keys.c.account, idempotency_keys.c.key).in_(
                            [tuple(row) for row in keys]
                        ),
                        idempotency_keys.c.created_at < cutoff,
                    )
                ).rowcount
                uow.commit()
            self.transactions += 1
            if len(keys) < self.chunk_rows:
                return

    def _expired(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (
            interactions.c.state == State.CLOSED.value,
            interactions.c.closed_at < self.cutoff,
        )


def _delete_logs(conn: Connection, account: str, keys: Sequence[str]) -> int:
    return conn.execute(delete(logs).where(logs.c.account == account, logs.c.id.in_(keys))).rowcount


def is_expired_interaction(
    conn: Connection, account: str, feed_id: str, sku_id: str, interaction_id: str
) -> bool:
    """Whether ``interaction_id`` is gone though the offer still names it.

    The offer's status history, its error occurrences and the offer itself keep the ids of
    the interactions that changed them; an id they name that has no interaction any more
    was purged. Unknown ids that nothing names are simply unknown.
    """
    interaction = select(interactions.c.id).where(
        interactions.c.account == account, interactions.c.id == interaction_id
    )
    history = select(offer_status_history.c.id).where(
        offer_status_history.c.account == account,
        offer_status_history.c.feed_id == feed_id,
        offer_status_history.c.sku_id == sku_id,
        offer_status_history.c.interaction_id == interaction_id,
    )
    occurrence = select(error_occurrences.c.id).where(
        error_occurrences.c.account == account,
        error_occurrences.c.feed_id == feed_id,
        error_occurrences.c.sku_id == sku_id,
        or_(
            error_occurrences.c.interaction_id == interaction_id,
            error_occurrences.c.closed_by_interaction_id == interaction_id,
        ),
    )
    offer = select(offers.c.sku_id).where(
        offers.c.account == account,
        offers.c.feed_id == feed_id,
        offers.c.sku_id == sku_id,
        offers.c.last_interaction_id == interaction_id,
    )
    query = select(
        and_(~exists(interaction), or_(exists(history), exists(occurrence), exists(offer)))
    )
    return bool(conn.execute(query).scalar())


def describe_days(days: float) -> str:
    """``10 days``, ``1 day``, ``0.5 days``."""
    shown = f"{days:g}"
    return f"{shown} day" if shown == "1" else f"{shown} days"


def interaction_expired(interaction_id: str, retention: timedelta) -> Gone:
    """The error answered for an interaction whose details were purged."""
    days = describe_days(retention / timedelta(days=1))
    return Gone(
        f"interaction {interaction_id!r} has expired: interaction details and logs are kept "
        f"{days}, and this interaction's have been purged; the offer's status history and "
        "errors still show what it did",
        code="interaction_expired",
        field="interactionId",
    )
