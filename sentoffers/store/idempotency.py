"""Idempotency keys in storage: claim a key, then store or release what it answered.

A request claims its (account, key) by inserting a row with no status yet; the insert
ignores conflicts, so of two workers or processes racing on one key exactly one inserts
and runs the request. The other reads the row: a request still running, a different
request under the same key, or a stored answer to replay. A row older than the TTL no
longer counts: it is taken over (in the claim's transaction, the row locked) as if new;
so is a claim still unanswered after ``IN_PROGRESS_LEASE`` (its process died mid-request).

``KeyLedger`` runs the steps of concurrent requests together, a transaction per group
(``sentoffers.store.group_commit``), so keyed POSTs do not each pay two transactions.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, delete, select, update

from sentoffers.store.db import Database
from sentoffers.store.dialect import insert_ignoring_conflicts
from sentoffers.store.group_commit import GroupCommit
from sentoffers.store.tables import idempotency_keys

IN_PROGRESS_LEASE = timedelta(minutes=5)
"""A claim with no answer after this long is taken over: the request that held it died."""

# The claim may find the row gone between its insert and its read (the request that held
# it failed and released it); it then tries again, a few times at most.
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What a request answered, kept to answer its retries byte for byte."""

    status_code: int
    content_type: str | None
    body: bytes


class ClaimState(enum.Enum):
    CLAIMED = "claimed"
    """The key is this request's: run it, then ``complete_key`` or ``release_key``."""
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

    Runs in the caller's transaction, which must commit for a ``CLAIMED`` to hold.
    """

    def outcome(state: ClaimState, response: StoredResponse | None = None) -> Claim:
        claimed_at = now if state is ClaimState.CLAIMED else None
        return Claim(state, account, key, fingerprint, claimed_at, response)

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
        expired = row.created_at <= now - ttl
        abandoned = row.status_code is None and row.created_at <= now - lease
        if expired or abandoned:
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
            continue
        if row.fingerprint != fingerprint:
            return outcome(ClaimState.REUSED)
        if row.status_code is None:
            return outcome(ClaimState.IN_USE)
        stored = StoredResponse(row.status_code, row.content_type, bytes(row.body or b""))
        return outcome(ClaimState.REPLAY, stored)
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


@dataclass(frozen=True, slots=True)
class _Step:
    """One request's step: a claim (``held`` is None), or the end of a claim it holds."""

    account: str = ""
    key: str = ""
    fingerprint: str = ""
    held: Claim | None = None
    response: StoredResponse | None = None
    """With ``held``: the answer to keep; None releases the key."""


class KeyLedger:
    """Claims, answers and releases of idempotency keys, written in groups."""

    def __init__(self, db: Database, ttl: timedelta, *, lease: timedelta = IN_PROGRESS_LEASE):
        self._db = db
        self._ttl = ttl
        self._lease = lease
        self._group: GroupCommit[_Step, Claim | None] = GroupCommit(
            self._write, max_items=500, what="idempotency key steps"
        )

    async def claim(self, account: str, key: str, fingerprint: str) -> Claim:
        result = await self._group.submit(_Step(account, key, fingerprint))
        assert result is not None
        return result

    async def complete(self, held: Claim, response: StoredResponse) -> None:
        await self._group.submit(_Step(held=held, response=response))

    async def release(self, held: Claim) -> None:
        await self._group.submit(_Step(held=held))

    async def stop(self) -> None:
        await self._group.stop()

    def _write(self, steps: Sequence[_Step]) -> list[Claim | None]:
        now = datetime.now(UTC)
        outcomes: list[Claim | None] = []
        with self._db.unit_of_work() as uow:
            for step in steps:
                if step.held is None:
                    ttl, lease = self._ttl, self._lease
                    found = claim(
                        uow.conn,
                        step.account,
                        step.key,
                        step.fingerprint,
                        now=now,
                        ttl=ttl,
                        lease=lease,
                    )
                    outcomes.append(found)
                else:
                    if step.response is not None:
                        complete(uow.conn, step.held, step.response)
                    else:
                        release(uow.conn, step.held)
                    outcomes.append(None)
            uow.commit()
        return outcomes


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
