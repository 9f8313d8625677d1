"""The work ledger: the one owner of a job's state, from acknowledgement to done.

Every notification the affiliate endpoint acknowledges is a row of ``work_items`` in the
connector's own database before the answer goes out, and the row is the job: there is no
other queue. One row per store and SKU with work to do:

- ``queued``: waiting in the queue of its ``context`` (catalog, price or inventory,
  ``decisions.queue_context``) until ``due_at``: now for new work, later for a retry;
- ``running``: a worker claimed it under a lease (``token``, ``lease_until``) that it renews
  while it works; a lease left to expire (the worker died) makes the row queued and due again;
- ``dead``: tried ``max_attempts`` times without an answer from VTEX or the marketplace:
  a dead letter with its reason, listed and replayed from the CLI.

Workers claim due rows per queue (context and store): up to N ``queued`` rows whose
``due_at`` has come, oldest first, become ``running`` under one lease token in one statement.
On PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so worker processes sharing the
database never claim the same row and never wait on each other; on SQLite (one process) the
claim is a write transaction (``BEGIN IMMEDIATE``). ``ix_work_items_due`` serves the claim.

A notification for a SKU already queued is merged into the row (flags add up); one for a SKU
being worked on waits in ``again`` and is queued when the work ends, so one SKU is never
worked on twice at once and its reports reach the service in order.

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
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)

from sentoffers.connector.decisions import queue_context
from sentoffers.connector.guard import BreakerEvent
from sentoffers.connector.model import Job, Notification, parse_notification
from sentoffers.connector.store import metadata, sku_states
from sentoffers.sql.db import Database

__all__ = ["CONTEXTS", "Claimed", "DeadLetter", "Routed", "WorkLedger", "queue_name", "work_items"]

QUEUED, RUNNING, DEAD = "queued", "running", "dead"
CONTEXTS = ("catalog", "price", "inventory")
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
    Column("due_at", DateTime(timezone=True)),
    Column("reason", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True)),
)

due_index = Index(
    "ix_work_items_due",
    work_items.c.account,
    work_items.c.context,
    work_items.c.state,
    work_items.c.due_at,
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


def queue_name(context: str, account: str) -> str:
    """The name a queue goes by in the connector's status: ``sentoffers.price.acme``."""
    return f"sentoffers.{context}.{account}"


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


def _add_due_at(engine: Engine) -> None:
    """Bring a ``work_items`` table made before ``due_at`` existed up to date: the column
    (due when last changed) and the claim's index."""
    columns = {column["name"] for column in inspect(engine).get_columns(work_items.name)}
    if "due_at" not in columns:
        kind = work_items.c.due_at.type.compile(dialect=engine.dialect)
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {work_items.name} ADD COLUMN due_at {kind}"))
            conn.execute(update(work_items).values(due_at=work_items.c.updated_at))
    due_index.create(engine, checkfirst=True)


def _claimed(row: Any, token: str, context: str, now: datetime) -> Claimed:
    job = Job(_load(row.notification), row.attempt, row.cause)
    received = _aware(row.received_at) or now
    return Claimed(job, token, context, received, _aware(row.last_attempt_at))


Routed = tuple[str, str, str]
"""(account, SKU id, context): work that is due in the queue of its context."""


class WorkLedger:
    """The ``work_items`` and ``breaker_events`` tables in the connector's database."""

    def __init__(self, db: Database, *, lease_seconds: float = 60.0):
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)
        metadata.create_all(db.engine, tables=[work_items, breaker_events])
        _add_due_at(db.engine)

    # acknowledging -------------------------------------------------------------------------

    def accept(self, notification: Notification, cause: str = "notification") -> Routed | None:
        """Record a notification; the queue it is due in, or ``None`` when it joined work
        that is already queued or running."""
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
                        notification=_dump(merged), cause=cause, attempt=0, due_at=now,
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

    def claim(self, context: str, account: str, limit: int = 1) -> list[Claimed]:
        """Up to ``limit`` due rows of a queue, oldest first, taken under a fresh lease (one
        token for them all); rows another worker is claiming at the same time are skipped."""
        token = secrets.token_hex(8)
        now = _now()
        due = (
            select(work_items.c.sku_id)
            .where(
                work_items.c.account == account,
                work_items.c.context == context,
                work_items.c.state == QUEUED,
                work_items.c.due_at <= now,
            )
            .order_by(work_items.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
            .prefix_with("MATERIALIZED")  # picked once, however often the update reads it
        )
        take = (
            update(work_items)
            .where(work_items.c.account == account, work_items.c.sku_id.in_(select(due.c.sku_id)))
            .values(state=RUNNING, token=token, lease_until=now + self.lease, updated_at=now)
            .returning(
                work_items.c.notification, work_items.c.attempt, work_items.c.cause,
                work_items.c.received_at, work_items.c.last_attempt_at, work_items.c.due_at,
            )
        )  # fmt: skip
        with self.db.unit_of_work() as uow:
            rows = uow.conn.execute(take).all()
            uow.commit()
        oldest_first = sorted(rows, key=lambda row: _aware(row.due_at) or now)
        return [_claimed(row, token, context, now) for row in oldest_first]

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
        """The work is done: forget the row, or make what arrived meanwhile due now."""
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
                    lease_until=None, due_at=now, context=context, cause="notification",
                    reason=None, received_at=now, updated_at=now,
                )
            )  # fmt: skip
            uow.commit()
        return account, sku, context

    def retry(
        self, claimed: Claimed, reason: str, *, max_attempts: int, delay: float = 0.0
    ) -> Routed | None:
        """The work could not be done now: the same row, queued again and due in ``delay``
        seconds, or a dead letter once ``max_attempts`` is reached (``None``)."""
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
                    due_at=now + timedelta(seconds=max(0.0, delay)), updated_at=now,
                    last_attempt_at=now,
                )
            )  # fmt: skip
            uow.commit()
        return None if dead else (account, sku, row.context)

    def recover(self, *, everything: bool = False) -> list[Routed]:
        """Running rows whose lease expired made queued and due now (all running rows with
        ``everything``, when no other worker can hold one)."""
        now = _now()
        running = work_items.c.state == RUNNING
        if not everything:
            running = and_(running, work_items.c.lease_until < now)
        with self.db.unit_of_work() as uow:
            rows = uow.conn.execute(
                update(work_items)
                .where(running)
                .values(state=QUEUED, token=None, lease_until=None, due_at=now, updated_at=now)
                .returning(work_items.c.account, work_items.c.sku_id, work_items.c.context)
            ).all()
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
        """Dead letters back in their queue, due now, attempts counted from zero again."""
        chosen = work_items.c.state == DEAD
        if account is not None:
            chosen = and_(chosen, work_items.c.account == account)
        if sku is not None:
            chosen = and_(chosen, work_items.c.sku_id == sku)
        now = _now()
        with self.db.unit_of_work() as uow:
            rows = uow.conn.execute(
                update(work_items)
                .where(chosen)
                .values(state=QUEUED, attempt=0, cause="replay", due_at=now, updated_at=now)
                .returning(work_items.c.account, work_items.c.sku_id, work_items.c.context)
            ).all()
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

    def queues(self, accounts: Iterable[str]) -> dict[str, dict[str, int]]:
        """Per queue of ``accounts``: rows due (``waiting``), queued for later
        (``scheduled``, retries) and ``running``."""
        names = sorted(accounts)
        found = {
            queue_name(context, account): {"waiting": 0, "scheduled": 0, "running": 0}
            for account in names
            for context in CONTEXTS
        }
        kind = case(
            (work_items.c.state == RUNNING, "running"),
            (work_items.c.due_at <= _now(), "waiting"),
            else_="scheduled",
        )
        stmt = (
            select(work_items.c.account, work_items.c.context, kind, func.count())
            .where(work_items.c.account.in_(names), work_items.c.state.in_((QUEUED, RUNNING)))
            .group_by(work_items.c.account, work_items.c.context, kind)
        )
        with self.db.unit_of_work(write=False) as uow:
            for account, context, what, count in uow.conn.execute(stmt):
                found[queue_name(context, account)][str(what)] = int(count)
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
