"""Idempotency keys in storage: a key is claimed and answered in the transaction of its write.

A keyed request first looks its (account, key) up (``look_up_keys``, a read): a stored
answer to replay, a different request under the same key, a request still running, or a
free key. A free key lets the request run; its write claims the key (``claim_keys``),
writes, and keeps the answer (``keep_answers``) in one transaction: if the process dies
before the commit, neither the write nor the key is left, and a retry writes once; after
it, a retry is answered the kept answer. A group commit claims and answers all its calls'
keys in a few statements.

The claim inserts a row, conflicts ignored, so of two writers racing on one key exactly one
runs; the other finds the row and says why it cannot (``KeyTaken``). On PostgreSQL the claim
first takes a transaction-scoped advisory lock on the key, so a writer never waits on
another's uncommitted claim: it is told the key is in use. SQLite runs one write
transaction at a time. A row older than the TTL no longer counts and is taken over; so is
a row left with no answer after ``IN_PROGRESS_LEASE`` (written by versions that claimed
the key in a transaction of its own, before the write).

An answer that took no part in a write (a refusal before any write, or a route whose write
does not claim the key) is kept afterwards by ``KeyLedger.keep``, in a transaction of its own.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine.base import NestedTransaction

from sentoffers.domain.errors import Conflict
from sentoffers.domain.idempotency import IDEMPOTENCY_KEY_HEADER, StoredResponse, lock_id
from sentoffers.server.store.tables import idempotency_keys
from sentoffers.sql.db import Database, UnitOfWork
from sentoffers.sql.dialect import insert_ignoring_conflicts
from sentoffers.sql.group_commit import GroupCommit

__all__ = [
    "IN_PROGRESS_LEASE",
    "Claim",
    "ClaimState",
    "KeyLedger",
    "KeyTaken",
    "KeyedRequest",
    "StoredResponse",
    "claim",
    "claim_key",
    "claim_keys",
    "complete",
    "joined",
    "keep_answers",
    "look_up_keys",
    "release",
]

IN_PROGRESS_LEASE = timedelta(minutes=5)
"""A claim with no answer after this long is taken over: the request that held it died."""

# The claim may find the row gone between its insert and its read (the request that held
# it failed and released it); it then tries again, a few times at most.
_CLAIM_ATTEMPTS = 3


class ClaimState(enum.Enum):
    CLAIMED = "claimed"
    """The key is this transaction's: write, then ``complete`` (or ``release``) before commit."""
    FREE = "free"
    """(``look_up`` only) No request holds the key: run the request, whose write claims it."""
    IN_USE = "in_use"
    """The same request runs elsewhere and has not answered yet."""
    REUSED = "reused"
    """The key was used for a different request."""
    REPLAY = "replay"
    """The same request already ran: answer ``response`` again."""


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    account: str
    key: str
    fingerprint: str
    claimed_at: datetime | None = None
    """When this request claimed the key (``CLAIMED`` only); identifies the claim."""
    response: StoredResponse | None = None
    """The stored answer (``REPLAY`` only)."""


def _found(
    row: Row[Any], fingerprint: str, now: datetime, ttl: timedelta, lease: timedelta
) -> tuple[ClaimState, StoredResponse | None]:
    """What an existing row means for a request with ``fingerprint``."""
    if row.created_at <= now - ttl or (row.status_code is None and row.created_at <= now - lease):
        return ClaimState.FREE, None  # expired, or abandoned by a process that died
    if row.fingerprint != fingerprint:
        return ClaimState.REUSED, None
    if row.status_code is None:
        return ClaimState.IN_USE, None
    return ClaimState.REPLAY, StoredResponse(
        row.status_code, row.content_type, bytes(row.body or b"")
    )


def look_up_keys(conn: Connection, requests: Sequence[KeyedRequest], now: datetime) -> list[Claim]:
    """What each request's key holds (``FREE``: run it); one read for them all, no claim."""
    pairs = list({(request.account, request.key) for request in requests})
    table = idempotency_keys
    rows = {
        (row.account, row.key): row
        for row in conn.execute(
            select(table).where(tuple_(table.c.account, table.c.key).in_(pairs))
        )
    }
    found = []
    for request in requests:
        row = rows.get((request.account, request.key))
        state, response = (
            (ClaimState.FREE, None)
            if row is None
            else _found(row, request.fingerprint, now, request.ttl, request.lease)
        )
        found.append(
            Claim(state, request.account, request.key, request.fingerprint, None, response)
        )
    return found


def _try_lock(conn: Connection, pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """PostgreSQL: each key's advisory lock for this transaction, unless another holds it.

    SQLite runs one write transaction at a time: nobody else can hold a key.
    """
    if conn.dialect.name != "postgresql":
        return [True] * len(pairs)
    ids = [lock_id(account, key) for account, key in pairs]
    locked: dict[int, bool] = dict(
        conn.execute(
            text(
                "SELECT id, pg_try_advisory_xact_lock(id) "
                "FROM unnest(CAST(:ids AS bigint[])) AS ids(id)"
            ),
            {"ids": ids},
        ).all()
    )
    return [bool(locked[lock]) for lock in ids]


def claim(
    conn: Connection,
    account: str,
    key: str,
    fingerprint: str,
    *,
    now: datetime,
    ttl: timedelta,
    lease: timedelta = IN_PROGRESS_LEASE,
) -> Claim:
    """Claim (account, key) for a request with ``fingerprint``, or say why it cannot run.

    Runs in the caller's transaction: the claim holds only if it commits, and should commit
    with the request's write and answer.
    """

    def outcome(state: ClaimState, response: StoredResponse | None = None) -> Claim:
        claimed_at = now if state is ClaimState.CLAIMED else None
        return Claim(state, account, key, fingerprint, claimed_at, response)

    if not _try_lock(conn, [(account, key)])[0]:
        return outcome(ClaimState.IN_USE)
    row_key = _row(account, key)
    for _ in range(_CLAIM_ATTEMPTS):
        # RETURNING says whether the row went in (PostgreSQL's rowcount does not).
        inserted = conn.execute(
            insert_ignoring_conflicts(conn, idempotency_keys)
            .values(account=account, key=key, fingerprint=fingerprint, created_at=now)
            .returning(idempotency_keys.c.key)
        ).first()
        if inserted is not None:
            return outcome(ClaimState.CLAIMED)
        row = conn.execute(select(idempotency_keys).where(row_key).with_for_update()).first()
        if row is None:
            continue
        state, response = _found(row, fingerprint, now, ttl, lease)
        if state is not ClaimState.FREE:
            return outcome(state, response)
        taken = conn.execute(
            update(idempotency_keys)
            .where(row_key, idempotency_keys.c.created_at == row.created_at)
            .values(
                fingerprint=fingerprint,
                status_code=None,
                content_type=None,
                body=None,
                created_at=now,
            )
        ).rowcount
        if taken:
            return outcome(ClaimState.CLAIMED)
    return outcome(ClaimState.IN_USE)


def complete(conn: Connection, held: Claim, response: StoredResponse) -> None:
    """Store what the claiming request answered, for its retries."""
    conn.execute(
        update(idempotency_keys)
        .where(*_held(held))
        .values(
            status_code=response.status_code,
            content_type=response.content_type,
            body=response.body,
        )
    )


def release(conn: Connection, held: Claim) -> None:
    """Give the key up, so that a retry runs the request again."""
    conn.execute(delete(idempotency_keys).where(*_held(held)))


def claim_key(
    db: Database, account: str, key: str, fingerprint: str, *, now: datetime, ttl: timedelta
) -> Claim:
    """``claim`` in a transaction of its own."""
    with db.unit_of_work() as uow:
        result = claim(uow.conn, account, key, fingerprint, now=now, ttl=ttl)
        uow.commit()
    return result


def claim_keys(conn: Connection, requests: Sequence[KeyedRequest], now: datetime) -> None:
    """Claim each request's key in the caller's transaction, before the writes: its ``held``
    is the claim, else its ``taken`` says what the key holds.

    A whole group costs two statements (the keys' locks, one insert); a key whose row was
    there already (expired, abandoned, answered) costs a few of its own.
    """
    for request in requests:
        request.held = request.answer = request.taken = None
    pairs = [(request.account, request.key) for request in requests]
    locked = _try_lock(conn, pairs)
    free = [request for request, ok in zip(requests, locked, strict=True) if ok]
    inserted: set[tuple[str, str]] = set()
    if free:
        table = idempotency_keys
        rows = conn.execute(
            insert_ignoring_conflicts(conn, table).returning(table.c.account, table.c.key),
            [
                {
                    "account": r.account,
                    "key": r.key,
                    "fingerprint": r.fingerprint,
                    "created_at": now,
                }
                for r in free
            ],
        )
        inserted = {(row.account, row.key) for row in rows}
    for request, ok in zip(requests, locked, strict=True):
        pair = (request.account, request.key)
        if not ok:
            request.taken = Claim(ClaimState.IN_USE, *pair, request.fingerprint)
            continue
        if pair in inserted:
            inserted.discard(pair)  # the same key twice in a group: the second finds the first
            found = Claim(ClaimState.CLAIMED, *pair, request.fingerprint, claimed_at=now)
        else:
            found = claim(
                conn, *pair, request.fingerprint, now=now, ttl=request.ttl, lease=request.lease
            )
        if found.state is ClaimState.CLAIMED:
            request.held = found
        else:
            request.taken = found


def keep_answers(conn: Connection, answers: Sequence[tuple[KeyedRequest, StoredResponse]]) -> None:
    """Keep each answer under its request's claim, in the transaction that claimed the keys
    and wrote: one statement for them all."""
    if not answers:
        return
    table = idempotency_keys
    conn.execute(
        update(table)
        .where(
            table.c.account == bindparam("k_account"),
            table.c.key == bindparam("k_key"),
            table.c.fingerprint == bindparam("k_fingerprint"),
            table.c.created_at == bindparam("k_claimed_at"),
            table.c.status_code.is_(None),
        )
        .values(
            status_code=bindparam("k_status_code"),
            content_type=bindparam("k_content_type"),
            body=bindparam("k_body"),
        ),
        [_kept(request, answer) for request, answer in answers],
    )
    for request, answer in answers:
        request.answer = answer


def _kept(request: KeyedRequest, answer: StoredResponse) -> dict[str, Any]:
    held = request.held
    assert held is not None, "keep an answer only under a claim"
    return {
        "k_account": held.account,
        "k_key": held.key,
        "k_fingerprint": held.fingerprint,
        "k_claimed_at": held.claimed_at,
        "k_status_code": answer.status_code,
        "k_content_type": answer.content_type,
        "k_body": answer.body,
    }


class KeyTaken(Conflict):
    """Another request claimed or answered the key between the look-up and the write.

    Raised before anything is written; ``claim`` says what the key holds (the middleware
    answers from it: the stored answer, or 409).
    """

    def __init__(self, found: Claim):
        super().__init__(
            f"the {IDEMPOTENCY_KEY_HEADER} {found.key!r} was taken by another request; "
            "retry in a moment",
            code="idempotency_key_in_use",
            field=IDEMPOTENCY_KEY_HEADER,
        )
        self.claim = found


@dataclass(slots=True)
class KeyedRequest:
    """A keyed request let through to its write, and what became of its key there."""

    account: str
    key: str
    fingerprint: str
    ttl: timedelta
    lease: timedelta = IN_PROGRESS_LEASE
    held: Claim | None = None
    """The claim made in the write's transaction."""
    answer: StoredResponse | None = None
    """The answer kept in the write's transaction."""
    taken: Claim | None = None
    """What the key held when the write could not claim it."""

    def claim(self, conn: Connection, now: datetime) -> None:
        """Claim the key in the write's transaction, before the write; ``KeyTaken`` if not."""
        claim_keys(conn, [self], now)
        if self.taken is not None:
            raise KeyTaken(self.taken)

    def keep(self, conn: Connection, answer: StoredResponse) -> None:
        """Keep the answer in the write's transaction, which then commits."""
        keep_answers(conn, [(self, answer)])

    def release(self, conn: Connection) -> None:
        """Give the claim up in the write's transaction: the write refused the request."""
        if self.held is not None:
            release(conn, self.held)
            self.held = None


class _Savepoint(UnitOfWork):
    """A unit of work inside another's transaction: a savepoint, released by ``commit()``."""

    def __init__(self, database: Database, outer: Connection):
        super().__init__(database, write=False)  # the outer unit of work holds any lock
        self._outer = outer
        self._savepoint: NestedTransaction | None = None

    @property
    def conn(self) -> Connection:
        assert self._savepoint is not None, "unit of work used outside its with block"
        return self._outer

    def __enter__(self) -> Self:
        self._savepoint = self._outer.begin_nested()
        return self

    def commit(self) -> None:
        assert self._savepoint is not None
        self._savepoint.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()


class _Joined(Database):
    def __init__(self, database: Database, conn: Connection):
        super().__init__(database.engine)
        self._conn = conn

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        return _Savepoint(self, self._conn)

    def dispose(self) -> None:
        """The engine belongs to the database joined."""


def joined(database: Database, conn: Connection) -> Database:
    """``database`` as seen from inside the transaction of ``conn``: every unit of work opened
    through it is a savepoint of that transaction, which commits (or not) as one.

    A service that opens its own unit of work so writes inside a keyed request's transaction.
    """
    assert conn.in_transaction(), "join a unit of work inside its with block"
    return _Joined(database, conn)


@dataclass(frozen=True, slots=True)
class _Step:
    """A look-up of a key, or (with ``answer``) an answer to keep under it."""

    request: KeyedRequest
    answer: StoredResponse | None = None


class KeyLedger:
    """Look-ups of keys, and answers kept outside a write, done in groups."""

    def __init__(self, db: Database, ttl: timedelta, *, lease: timedelta = IN_PROGRESS_LEASE):
        self._db = db
        self._ttl = ttl
        self._lease = lease
        self._look_ups: GroupCommit[_Step, Claim] = GroupCommit(
            self._look_up, max_items=500, what="idempotency key look-ups"
        )
        self._kept: GroupCommit[_Step, None] = GroupCommit(
            self._keep, max_items=500, what="idempotency key answers"
        )

    def request(self, account: str, key: str, fingerprint: str) -> KeyedRequest:
        return KeyedRequest(account, key, fingerprint, self._ttl, self._lease)

    async def look_up(self, request: KeyedRequest) -> Claim:
        """What the request's key holds (``FREE``: run the request)."""
        return await self._look_ups.submit(_Step(request))

    async def keep(self, request: KeyedRequest, answer: StoredResponse) -> None:
        """Keep an answer no write kept, unless another request has claimed the key since."""
        await self._kept.submit(_Step(request, answer))

    async def stop(self) -> None:
        await self._look_ups.stop()
        await self._kept.stop()

    def _look_up(self, steps: Sequence[_Step]) -> list[Claim]:
        with self._db.unit_of_work(write=False) as uow:
            return look_up_keys(uow.conn, [step.request for step in steps], datetime.now(UTC))

    def _keep(self, steps: Sequence[_Step]) -> list[None]:
        now = datetime.now(UTC)
        with self._db.unit_of_work() as uow:
            for step in steps:
                assert step.answer is not None
                held = claim(
                    uow.conn,
                    step.request.account,
                    step.request.key,
                    step.request.fingerprint,
                    now=now,
                    ttl=self._ttl,
                    lease=self._lease,
                )
                if held.state is ClaimState.CLAIMED:
                    complete(uow.conn, held, step.answer)
            uow.commit()
        return [None] * len(steps)


def _row(account: str, key: str) -> ColumnElement[bool]:
    return and_(idempotency_keys.c.account == account, idempotency_keys.c.key == key)


def _held(held: Claim) -> tuple[ColumnElement[bool], ...]:
    """The claim's row, as long as no later request took it over (after the TTL)."""
    assert held.state is ClaimState.CLAIMED
    assert held.claimed_at is not None
    return (
        _row(held.account, held.key),
        idempotency_keys.c.fingerprint == held.fingerprint,
        idempotency_keys.c.created_at == held.claimed_at,
        idempotency_keys.c.status_code.is_(None),
    )
