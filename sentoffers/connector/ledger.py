"""The work ledger: every notification acknowledged, until its SKU is done with.

The task queue (``sentoffers.connector.queues``) carries the work between processes; the
ledger, in the connector's own database, is what makes it safe to crash. A task queue
hands a task out by removing it, so a worker killed in the middle of one would lose it; the
ledger keeps one row per SKU with work to do, from the moment the affiliate endpoint
acknowledges a notification until the SKU settles:

- ``queued``: a task for the SKU is in (or on its way to) the queue of ``context``;
- ``running``: a worker holds it under a lease (``token``, ``lease_until``) that it renews
  while it works; a lease left to expire (the worker died) puts the row back in the queue;
- ``dead``: tried ``max_attempts`` times without an answer from VTEX or the marketplace:
  a dead letter with its reason, listed and replayed from the CLI.

A notification for a SKU already queued is merged into the row (flags add up); one for a SKU
being worked on waits in ``again`` and is queued when the work ends, so one SKU is never
worked on twice at once and its reports reach the service in order. The queue a row goes to
is its context: catalog, price or inventory (``decisions.queue_context``).

``breaker_events`` keeps the circuit breakers' openings and closings, for every process.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
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

from sentoffers.connector.decisions import queue_context
from sentoffers.connector.guard import BreakerEvent
from sentoffers.connector.model import Job, Notification, parse_notification
from sentoffers.connector.store import metadata, sku_states
from sentoffers.sql.db import Database

__all__ = ["Claimed", "DeadLetter", "WorkLedger", "work_items"]

QUEUED, RUNNING, DEAD = "queued", "running", "dead"
REASON_LIMIT = 2000

work_items = Table(
    "work_items",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("sku_id", String(128), primary_key=True),
    Column("context", String(16), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("notification", Text, nullable=False),
    Column("cause", String(32), nullable=False),
    Column("again", Text),
    Column("attempt", Integer, nullable=False, default=0),
    Column("token", String(32)),
    Column("lease_until", DateTime(timezone=True), index=True),
    Column("reason", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True)),
)

breaker_events = Table(
    "breaker_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("marketplace", String(200), nullable=False),
    Column("before", String(16), nullable=False),
    Column("after", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("failures", Integer, nullable=False),
    Column("reset_timeout", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row a worker took: the job to run and the token that proves it holds the lease."""

    job: Job
    token: str
    context: str
    received_at: datetime
    previous_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    account: str
    sku_id: str
    context: str
    attempts: int
    reason: str
    since: datetime
    flags: str


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _dump(notification: Notification) -> str:
    return json.dumps(notification.as_json(), separators=(",", ":"))


def _load(text: str) -> Notification:
    return parse_notification(json.loads(text))


def _flags(n: Notification) -> str:
    names = [
        name
        for name, on in (
            ("sku", n.sku_modified),
            ("price", n.price_modified),
            ("stock", n.stock_modified),
            ("removed", n.removed_from_affiliate),
            ("inactive", not n.is_active),
        )
        if on
    ]
    return ",".join(names)


Routed = tuple[str, str, str]
"""(account, SKU id, context): a task to put in a queue."""


class WorkLedger:
    """The ``work_items`` and ``breaker_events`` tables in the connector's database."""

    def __init__(self, db: Database, *, lease_seconds: float = 60.0):
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)
        metadata.create_all(db.engine, tables=[work_items, breaker_events])

    # acknowledging -------------------------------------------------------------------------

    def accept(self, notification: Notification, cause: str = "notification") -> Routed | None:
        """Record a notification; the task to enqueue, or ``None`` when it joined work that
        is already queued or running."""
        account, sku = notification.account, notification.sku_id
        key = and_(work_items.c.account == account, work_items.c.sku_id == sku)
        now = _now()
        with self.db.unit_of_work() as uow:
            row = uow.conn.execute(select(work_items).where(key)).first()
            if row is None or row.state == DEAD:
                merged = notification
                if row is not None:  # a new notification revives a dead letter
                    merged = _load(row.notification).merged_with(notification)
                    uow.conn.execute(delete(work_items).where(key))
                context = self._context(uow.conn, merged)
                uow.conn.execute(
                    insert(work_items).values(
                        account=account, sku_id=sku, context=context, state=QUEUED,
                        notification=_dump(merged), cause=cause, attempt=0,
                        received_at=now, updated_at=now,
                    )
                )  # fmt: skip
                uow.commit()
                return account, sku, context
            if row.state == QUEUED:
                merged = _load(row.notification).merged_with(notification)
                values: dict[str, Any] = {"notification": _dump(merged), "updated_at": now}
            else:  # running: it waits for the work in hand to end
                earlier = _load(row.again) if row.again else None
                later = earlier.merged_with(notification) if earlier else notification
                values = {"again": _dump(later)}
            uow.conn.execute(update(work_items).where(key).values(**values))
            uow.commit()
        return None

    # working -------------------------------------------------------------------------------

    def claim(self, account: str, sku: str) -> Claimed | None:
        """Take a queued row under a fresh lease; ``None`` if it is not queued (done,
        merged, or taken by another worker)."""
        key = and_(work_items.c.account == account, work_items.c.sku_id == sku)
        token = secrets.token_hex(8)
        now = _now()
        with self.db.unit_of_work() as uow:
            taken = uow.conn.execute(
                update(work_items)
                .where(key, work_items.c.state == QUEUED)
                .values(state=RUNNING, token=token, lease_until=now + self.lease, updated_at=now)
            ).rowcount
            if not taken:
                uow.commit()
                return None
            row = uow.conn.execute(select(work_items).where(key)).one()
            uow.commit()
        job = Job(_load(row.notification), row.attempt, row.cause)
        return Claimed(
            job, token, row.context, _aware(row.received_at) or now,
            _aware(row.last_attempt_at),
        )  # fmt: skip

    def renew(self, tokens: Iterable[str]) -> int:
        """Extend the leases of the rows held with ``tokens``."""
        held = list(tokens)
        if not held:
            return 0
        with self.db.unit_of_work() as uow:
            renewed = uow.conn.execute(
                update(work_items)
                .where(work_items.c.state == RUNNING, work_items.c.token.in_(held))
                .values(lease_until=_now() + self.lease)
            ).rowcount
            uow.commit()
        return int(renewed)

    def finish(self, claimed: Claimed) -> Routed | None:
        """The work is done: forget the row, or queue what arrived meanwhile."""
        account, sku = claimed.job.key
        key = and_(
            work_items.c.account == account,
            work_items.c.sku_id == sku,
            work_items.c.token == claimed.token,
        )
        with self.db.unit_of_work() as uow:
            row = uow.conn.execute(select(work_items.c.again).where(key)).first()
            if row is None:  # the lease was lost and someone else has the row now
                uow.commit()
                return None
            if row.again is None:
                uow.conn.execute(delete(work_items).where(key))
                uow.commit()
                return None
            later = _load(row.again)
            context = self._context(uow.conn, later)
            now = _now()
            uow.conn.execute(
                update(work_items).where(key).values(
                    state=QUEUED, notification=row.again, again=None, attempt=0, token=None,
                    lease_until=None, context=context, cause="notification", reason=None,
                    received_at=now, updated_at=now,
                )
            )  # fmt: skip
            uow.commit()
        return account, sku, context

    def retry(self, claimed: Claimed, reason: str, *, max_attempts: int) -> Routed | None:
        """The work could not be done now: queue it again (the caller delays the task), or
        make it a dead letter once ``max_attempts`` is reached (``None``)."""
        account, sku = claimed.job.key
        key = and_(
            work_items.c.account == account,
            work_items.c.sku_id == sku,
            work_items.c.token == claimed.token,
        )
        attempt = claimed.job.attempt + 1
        now = _now()
        with self.db.unit_of_work() as uow:
            row = uow.conn.execute(select(work_items).where(key)).first()
            if row is None:
                uow.commit()
                return None
            notification = _load(row.notification)
            if row.again:
                notification = notification.merged_with(_load(row.again))
            dead = attempt >= max_attempts
            uow.conn.execute(
                update(work_items).where(key).values(
                    state=DEAD if dead else QUEUED, notification=_dump(notification), again=None,
                    attempt=attempt, token=None, lease_until=None, reason=reason[:REASON_LIMIT],
                    updated_at=now, last_attempt_at=now,
                )
            )  # fmt: skip
            uow.commit()
        return None if dead else (account, sku, row.context)

    def recover(self, *, everything: bool = False, stale_after: float = 600.0) -> list[Routed]:
        """Rows to put in their queue again: running ones whose lease expired (all of them
        with ``everything``, when no other worker can hold one), and queued ones whose task
        may have been lost (older than ``stale_after`` seconds; a second task for a row is
        harmless, it finds nothing to claim)."""
        now = _now()
        running = work_items.c.state == RUNNING
        if not everything:
            running = and_(running, work_items.c.lease_until < now)
        stale = and_(
            work_items.c.state == QUEUED,
            work_items.c.updated_at < now - timedelta(seconds=stale_after),
        )
        with self.db.unit_of_work() as uow:
            rows = uow.conn.execute(
                select(work_items.c.account, work_items.c.sku_id, work_items.c.context).where(
                    running | stale
                )
            ).all()
            if rows:
                uow.conn.execute(
                    update(work_items)
                    .where(running | stale)
                    .values(state=QUEUED, token=None, lease_until=None, updated_at=now)
                )
            uow.commit()
        return [(row.account, row.sku_id, row.context) for row in rows]

    # dead letters --------------------------------------------------------------------------

    def dead_letters(self, account: str | None = None, *, limit: int = 1000) -> list[DeadLetter]:
        stmt = (
            select(work_items)
            .where(work_items.c.state == DEAD)
            .order_by(work_items.c.account, work_items.c.updated_at, work_items.c.sku_id)
            .limit(limit)
        )
        if account is not None:
            stmt = stmt.where(work_items.c.account == account)
        with self.db.unit_of_work(write=False) as uow:
            rows = uow.conn.execute(stmt).all()
        return [
            DeadLetter(
                row.account,
                row.sku_id,
                row.context,
                row.attempt,
                row.reason or "",
                _aware(row.updated_at) or _now(),
                _flags(_load(row.notification)),
            )
            for row in rows
        ]

    def replay(self, account: str | None = None, sku: str | None = None) -> list[Routed]:
        """Dead letters back in their queue, attempts counted from zero again."""
        chosen = work_items.c.state == DEAD
        if account is not None:
            chosen = and_(chosen, work_items.c.account == account)
        if sku is not None:
            chosen = and_(chosen, work_items.c.sku_id == sku)
        now = _now()
        with self.db.unit_of_work() as uow:
            rows = uow.conn.execute(
                select(work_items.c.account, work_items.c.sku_id, work_items.c.context).where(
                    chosen
                )
            ).all()
            uow.conn.execute(
                update(work_items)
                .where(chosen)
                .values(state=QUEUED, attempt=0, cause="replay", updated_at=now)
            )
            uow.commit()
        return [(row.account, row.sku_id, row.context) for row in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per state and context: ``{"queued": {"catalog": 3}, ...}``."""
        stmt = select(work_items.c.state, work_items.c.context, func.count()).group_by(
            work_items.c.state, work_items.c.context
        )
        found: dict[str, dict[str, int]] = {}
        with self.db.unit_of_work(write=False) as uow:
            for state, context, count in uow.conn.execute(stmt):
                found.setdefault(str(state), {})[str(context)] = int(count)
        return found

    def pending(self) -> int:
        """Rows queued or running."""
        stmt = select(func.count()).where(work_items.c.state.in_((QUEUED, RUNNING)))
        with self.db.unit_of_work(write=False) as uow:
            return int(uow.conn.execute(stmt).scalar_one())

    # breaker events ------------------------------------------------------------------------

    def record_breaker_event(self, event: BreakerEvent) -> None:
        with self.db.unit_of_work() as uow:
            uow.conn.execute(
                insert(breaker_events).values(
                    marketplace=event.marketplace, before=event.before, after=event.after,
                    at=event.at, failures=event.failures, reset_timeout=event.reset_timeout,
                )
            )  # fmt: skip
            uow.commit()

    def breaker_events(
        self, since: datetime | None = None, *, limit: int = 100
    ) -> list[BreakerEvent]:
        stmt = select(breaker_events).order_by(breaker_events.c.at.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(breaker_events.c.at >= since)
        with self.db.unit_of_work(write=False) as uow:
            rows = uow.conn.execute(stmt).all()
        return [
            BreakerEvent(
                row.marketplace,
                row.before,
                row.after,
                _aware(row.at) or _now(),
                row.failures,
                row.reset_timeout,
            )
            for row in reversed(rows)
        ]

    @staticmethod
    def _context(conn: Any, notification: Notification) -> str:
        listed = conn.execute(
            select(sku_states.c.marketplace_id).where(
                sku_states.c.account == notification.account,
                sku_states.c.sku_id == notification.sku_id,
            )
        ).scalar()
        return queue_context(notification, listed=listed is not None)
